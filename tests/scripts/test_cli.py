"""The CLI as a user meets it: smoke runs, bad input (one line, exit 2), kill and resume, video."""

import json
import os
import signal
import subprocess
import sys
import time

import imageio.v3 as iio
import pytest
import torch

from sensorimotor.utils.checkpoint import latest_checkpoint, load_checkpoint
from tests.helpers import REPO, run_cli


def assert_clean_error(result, *fragments):
    assert result.returncode == 2, result.stderr[-2000:]
    lines = [line for line in result.stderr.strip().splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr[-2000:]
    assert "Traceback" not in result.stderr
    for fragment in fragments:
        assert fragment in lines[0]


def test_bad_inputs_give_one_line_and_exit_code_2(tmp_path):
    assert_clean_error(run_cli("train", "ppo", "--env", "HalfCheeta-v5"), "HalfCheetah-v5")
    assert_clean_error(run_cli("train", "ppo", "--env", "CartPole-v1", "--preset", "nope"), "unknown preset")
    assert_clean_error(run_cli("train", "ppo", "--env", "CartPole-v1", "--ppo.num-envs", "0",
                               "--run-dir", str(tmp_path / "a")), "num_envs must be positive")
    assert_clean_error(run_cli("train", "ppo", "--env", "CartPole-v1", "--num-envs", "x"), "--num-envs must be a positive")
    assert_clean_error(run_cli("train", "dqn", "--env", "MinAtar/Breakout-v1", "--preset", "minatar", "--num-envs=0"),
                       "--num-envs must be a positive")
    assert_clean_error(run_cli("train", "ppo", "--env", "CartPole-v1", "--backend", "mjx"), "no backend 'mjx'")
    assert_clean_error(run_cli("train", "ppo", "--env", "CartPole-v1", "--ppo.batch-size", "100",
                               "--run-dir", str(tmp_path / "b")), "must divide")
    assert_clean_error(run_cli("train", "ppo", "--env", "CartPole-v1", "--ppo.device", "cuda:x",
                               "--run-dir", str(tmp_path / "c")), "is not a device")
    if not torch.cuda.is_available():
        assert_clean_error(run_cli("train", "ppo", "--env", "CartPole-v1", "--ppo.device", "cuda",
                                   "--run-dir", str(tmp_path / "d")), "torch sees no CUDA GPU", "--ppo.device cpu")
    assert_clean_error(run_cli("evaluate", str(tmp_path)), "not a run directory")
    assert_clean_error(run_cli("export", str(tmp_path)), "not a run directory")
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "config.json").write_text(json.dumps({"agent": "dqn"}))
    assert_clean_error(run_cli("train", "ppo", "--resume", str(foreign)), "trained by 'dqn'")


def test_smoke_train_then_evaluate(tmp_path):
    run = tmp_path / "run"
    result = run_cli("train", "ppo", "--env", "CartPole-v1", "--preset", "smoke", "--run-dir", str(run),
                     "--no-progress")
    assert result.returncode == 0, result.stderr[-3000:]
    assert (run / "config.json").exists() and (run / "metrics.jsonl").exists()
    assert any(name.startswith("events") for name in os.listdir(run / "tb"))
    result = run_cli("evaluate", str(run), "--episodes", "3")
    assert result.returncode == 0, result.stderr[-3000:]
    summary = json.loads((run / "eval" / "summary.json").read_text())
    assert summary["episodes"] == 3 and summary["return_min"] <= summary["return_mean"] <= summary["return_max"]
    if not torch.cuda.is_available():
        # A run trained on a GPU machine still evaluates here, on the cpu, and says so.
        saved = (run / "config.json").read_text()
        config = json.loads(saved)
        config["ppo"]["device"] = "cuda"
        (run / "config.json").write_text(json.dumps(config))
        result = run_cli("evaluate", str(run), "--episodes", "2")
        assert result.returncode == 0 and "was trained on cuda" in result.stderr, result.stderr[-3000:]
        assert json.loads((run / "eval" / "summary.json").read_text())["episodes"] == 2
        (run / "config.json").write_text(saved)
    # A checkpoint chosen by its step (older ones: tests/utils/test_checkpoint.py); each evaluation
    # also stays in eval/step_<n>.json.
    latest = latest_checkpoint(str(run))
    step = int(os.path.basename(latest).removeprefix("step_"))
    result = run_cli("evaluate", str(run), "--episodes", "1", "--checkpoint", str(step))
    assert result.returncode == 0, result.stderr[-3000:]
    assert json.loads((run / "eval" / f"step_{step}.json").read_text())["checkpoint"] == latest
    assert_clean_error(run_cli("evaluate", str(run), "--checkpoint", "step_1"), "no checkpoint 'step_1'",
                       os.path.basename(latest))
    # A corrupted checkpoint is reported, not a torch traceback.
    with open(os.path.join(latest, "state.pt"), "wb") as f:
        f.write(b"garbage")
    assert_clean_error(run_cli("evaluate", str(run)), "corrupt")


def test_evaluate_writes_a_decodable_mp4_and_a_curve(tmp_path):
    run = tmp_path / "cheetah"
    result = run_cli("train", "ppo", "--env", "HalfCheetah-v5", "--preset", "bench", "--ppo.total-steps", "8192",
                     "--ppo.no-compile", "--ppo.n-epochs", "1", "--run-dir", str(run), "--no-progress")
    assert result.returncode == 0, result.stderr[-3000:]
    result = run_cli("evaluate", str(run), "--episodes", "1", "--video")
    assert result.returncode == 0, result.stderr[-3000:]
    summary = json.loads((run / "eval" / "summary.json").read_text())
    assert summary["length_mean"] == 1000
    frames = iio.imread(summary["videos"][0], plugin="pyav") if _has_pyav() else _decode_ffmpeg(summary["videos"][0])
    assert len(frames) >= 990 and frames[0].shape[-1] == 3
    assert frames[0].std() > 5  # a rendered scene, not a blank frame
    assert os.path.getsize(summary["learning_curve"]) > 1000


def test_missing_rendering_backend_fails_only_when_a_frame_is_needed(tmp_path):
    broken = {"MUJOCO_GL": "osmesa", "PYOPENGL_PLATFORM": "osmesa"}  # OSMesa is not installed here
    run = tmp_path / "cheetah"
    result = run_cli("train", "ppo", "--env", "HalfCheetah-v5", "--preset", "bench", "--ppo.total-steps", "4096",
                     "--ppo.no-compile", "--ppo.n-epochs", "1", "--run-dir", str(run), "--no-progress",
                     env_overrides=broken)
    assert result.returncode == 0, result.stderr[-3000:]  # training renders nothing
    result = run_cli("evaluate", str(run), "--episodes", "1", "--video", env_overrides=broken)
    if result.returncode == 0:
        pytest.skip("OSMesa is installed here, so there is no missing backend to report")
    assert_clean_error(result, "MUJOCO_GL")
    assert run_cli("evaluate", str(run), "--episodes", "1", env_overrides=broken).returncode == 0


def test_sigkill_during_training_resumes_from_last_whole_checkpoint(tmp_path):
    run = tmp_path / "killed"
    args = [sys.executable, "-m", "sensorimotor", "train", "ppo", "--env", "CartPole-v1", "--preset", "smoke",
            "--ppo.total-steps", "200000", "--checkpoint-every", "128", "--run-dir", str(run), "--no-progress"]
    process = subprocess.Popen(args, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    while time.time() < deadline and len(os.listdir(run / "checkpoints") if (run / "checkpoints").exists() else []) < 3:
        time.sleep(0.05)
    time.sleep(0.37)  # land somewhere inside the write cycle rather than right after one
    process.send_signal(signal.SIGKILL)
    process.wait()
    killed_at = load_checkpoint(latest_checkpoint(str(run)))[1]["step"]
    assert killed_at > 0
    # Finish the run: same config, so the total is 200000; shorten it by editing the saved config.
    config = json.loads((run / "config.json").read_text())
    config["ppo"]["total_steps"] = killed_at + 512
    (run / "config.json").write_text(json.dumps(config))
    result = run_cli("train", "ppo", "--resume", str(run), "--no-progress")
    assert result.returncode == 0, result.stderr[-3000:]
    assert f"from step {killed_at}" in result.stdout
    final = load_checkpoint(latest_checkpoint(str(run)))[1]["step"]
    assert final == killed_at + 512
    # One metrics row per step: what the killed process logged after its checkpoint is gone.
    steps = [json.loads(line)["step"] for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert steps == sorted(set(steps)) and steps[-1] == final


def _has_pyav():
    try:
        import av  # noqa: F401

        return True
    except ImportError:
        return False


def _decode_ffmpeg(path):
    import imageio.v2 as imageio

    with imageio.get_reader(path, format="FFMPEG") as reader:
        return [frame for frame in reader]


def test_flag_parse_errors_are_one_line_too():
    assert_clean_error(run_cli("train", "ppo", "--env", "CartPole-v1", "--ppo.nonsense", "3"),
                       "Unrecognized options", "--ppo.nonsense")
    assert_clean_error(run_cli("export", "somewhere", "--formats", "pdf"), "invalid choice 'pdf'")
