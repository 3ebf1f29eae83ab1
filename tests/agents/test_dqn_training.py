"""``sensorimotor train dqn`` end to end on Atari (ale backend) with a tiny budget, resume with the
saved replay (or an empty one when the run did not save it), and the bad inputs that must fail in one
line."""

import json
import os

import numpy as np
import pytest
import torch

from tests.helpers import run_cli

TINY = ["--dqn.num-envs", "2", "--dqn.total-steps", "600", "--dqn.learning-starts", "200", "--dqn.buffer-size",
        "2000", "--dqn.train-every", "8", "--dqn.target-update-every", "100", "--checkpoint-every", "300",
        "--no-progress"]


def test_train_dqn_on_pong_then_resume(tmp_path):
    run_dir = str(tmp_path / "pong")
    result = run_cli("train", "dqn", "--env", "ALE/Pong-v5", "--run-dir", run_dir, *TINY, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    metrics = [json.loads(line) for line in open(os.path.join(run_dir, "metrics.jsonl"))]
    assert metrics[-1]["step"] == 600 and "loss" in metrics[-1] and metrics[-1]["replay_size"] > 500
    assert sorted(os.listdir(os.path.join(run_dir, "checkpoints"))) == ["step_300", "step_600"]
    # Only the newest checkpoint carries the replay.
    assert not os.path.exists(os.path.join(run_dir, "checkpoints", "step_300", "replay.safetensors"))
    assert os.path.exists(os.path.join(run_dir, "checkpoints", "step_600", "replay.safetensors"))
    config = json.load(open(os.path.join(run_dir, "config.json")))
    assert config["agent"] == "dqn"
    # Resume a copy of the run, stopped at step 300, to the end with more steps.
    config["dqn"]["total_steps"] = 900
    json.dump(config, open(os.path.join(run_dir, "config.json"), "w"))
    result = run_cli("train", "dqn", "--resume", run_dir, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    # 600 steps from 2 envs plus the final slots of the games that ended: all kept
    assert "from step 600 with the saved replay (6" in result.stdout, result.stdout[-2000:]
    assert json.loads(open(os.path.join(run_dir, "metrics.jsonl")).readlines()[-1])["step"] == 900

    # Evaluation with the Atari protocol on the ale backend, then with video on the wrapper path.
    result = run_cli("evaluate", run_dir, "--episodes", "2", "--epsilon", "0.05", timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    summary = json.loads(result.stdout)
    assert summary["episodes"] == 2 and summary["step"] == 900
    assert summary["protocol"] == {"epsilon": 0.05, "sticky_actions": 0.25, "noop_max": 30,
                                   "life_loss_terminal": False, "max_frames": 108_000}
    assert -21 <= summary["return_min"] <= summary["return_max"] <= 21 and summary["length_min"] > 500  # whole games
    _export_matches_the_greedy_agent(run_dir)
    result = run_cli("evaluate", run_dir, "--episodes", "1", "--video", timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    video = json.loads(result.stdout)["videos"][0]
    import imageio.v3 as iio

    frames = iio.imread(video)
    assert frames.shape[1:] == (210, 160, 3)  # the emulator's full-colour frames, not the agent's 84x84 gray
    assert len(frames) > 500 and frames[..., 0].std() > 1 and not (frames[..., 0] == frames[..., 1]).all()


def test_bad_dqn_input_fails_in_one_line(tmp_path):
    cases = [
        (["--env", "Pendulum-v1"], "discrete action space"),
        (["--env", "ALE/Pongg-v5"], "Did you mean: ALE/Pong-v5"),
        (["--preset", "fast"], "unknown preset 'fast' for dqn"),
        (["--dqn.n-step", "0"], "n_step"),
        (["--dqn.buffer-size", "100000000000"], "GiB"),
        (["--dqn.device", "tpu"], "is not a device"),
    ]
    if not torch.cuda.is_available():  # the GPU preset on a machine without one: one line, not torch's assert
        cases.append((["--preset", "atari-gpu"], "torch sees no CUDA GPU"))
    for flags, message in cases:
        result = run_cli("train", "dqn", *flags, "--run-dir", str(tmp_path / "bad"), "--no-progress", timeout=300)
        assert result.returncode == 2 and message in result.stderr, (flags, result.stderr[-2000:])
        assert "Traceback" not in result.stderr


def test_prioritized_run_resumed_without_a_saved_replay_starts_empty(tmp_path):
    run_dir = str(tmp_path / "breakout")
    flags = ["--dqn.num-envs", "2", "--dqn.total-steps", "400", "--dqn.learning-starts", "200", "--dqn.buffer-size",
             "1000", "--checkpoint-every", "200", "--no-save-replay", "--dqn.prioritized", "--no-progress"]
    result = run_cli("train", "dqn", "--env", "MinAtar/Breakout-v1", "--preset", "minatar", "--run-dir", run_dir, *flags,
                     timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    assert not os.path.exists(os.path.join(run_dir, "checkpoints", "step_400", "replay.safetensors"))
    config = json.load(open(os.path.join(run_dir, "config.json")))
    config["dqn"]["total_steps"] = 700
    json.dump(config, open(os.path.join(run_dir, "config.json"), "w"))
    result = run_cli("train", "dqn", "--resume", run_dir, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "from step 400 with an empty replay (the run did not save it" in result.stdout
    metrics = [json.loads(line) for line in open(os.path.join(run_dir, "metrics.jsonl"))]
    assert metrics[-1]["step"] == 700 and "loss" in metrics[-1]  # refilled 200 steps, then updated again


def _export_matches_the_greedy_agent(run_dir):
    """The exported graph returns argmax Q, as the agent does at epsilon 0: by default it takes one frame
    and carries the three before it as its state (zeros at the start, as the envs pad); with
    ``--frame-stack caller`` it takes the whole stack; from an RGB camera it converts each frame."""
    onnxruntime = pytest.importorskip("onnxruntime")
    from sensorimotor.app.export import ExportArgs, export
    from sensorimotor.app.loading import load_run
    from sensorimotor.envs import make_vec
    from sensorimotor.hardware.policy import OnnxPolicy

    result = run_cli("export", run_dir, "--formats", "onnx", timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    manifest = json.load(open(os.path.join(run_dir, "export", "manifest.json")))
    assert manifest["inputs"]["obs"]["shape"] == ["batch", 1, 84, 84] and manifest["inputs"]["obs"]["dtype"] == "uint8"
    assert manifest["inputs"]["obs"]["frame_stack"]["frames"] == 4 and manifest["inputs"]["obs"]["frame_stack"]["inside"]
    assert manifest["inputs"]["state"]["shape"] == manifest["outputs"]["next_state"]["shape"] == ["batch", 3, 84, 84]
    assert manifest["outputs"]["action"] == {"shape": ["batch"], "dtype": "int64", "choices": 6}
    run = load_run(run_dir)
    run.env.close()
    agent = run.agent
    env = make_vec("ALE/Pong-v5", 1, backend="sync")
    obs = env.reset(seed=3)
    stacks = [obs]
    for _ in range(40):
        obs = env.step(torch.randint(0, 6, (1,)))[0]
        stacks.append(obs)
    env.close()
    batch = torch.cat(stacks)  # [41, 4, 84, 84], the first padded with zeros
    assert (batch[0, :3] == 0).all()
    with torch.no_grad():
        q = agent.q(batch)
    top2 = q.topk(2, dim=1).values
    clear = (top2[:, 0] - top2[:, 1] > 1e-4).numpy()  # float rounding may only flip near-ties
    assert clear.sum() >= 30
    greedy = agent.act(batch, epsilon=0.0).numpy()

    policy = OnnxPolicy(os.path.join(run_dir, "export"))  # the deploy side: one frame per call
    one_by_one = []
    for t in range(len(batch)):
        one_by_one.append(int(policy(batch[t, -1:].numpy())))
        assert np.array_equal(policy.state[0], batch[t, 1:].numpy())  # the stack it carries is the env's
    assert np.array_equal(np.array(one_by_one)[clear], greedy[clear])

    caller = export(ExportArgs(run_dir, formats=("onnx",), frame_stack="caller", robot_spec="none"))
    assert caller["inputs"]["obs"]["shape"] == ["batch", 4, 84, 84] and "state" not in caller["inputs"]
    session = onnxruntime.InferenceSession(os.path.join(run_dir, "export", "policy.onnx"))
    assert np.array_equal(session.run(None, {"obs": batch.numpy()})[0][clear], greedy[clear])

    # A camera graph: gray frames given as RGB (R = G = B) at the trained size act as the native ones.
    camera = export(ExportArgs(run_dir, formats=("onnx",), camera_size=(84, 84), robot_spec="none"))
    assert camera["inputs"]["obs"]["shape"] == ["batch", 84, 84, 3]
    policy = OnnxPolicy(os.path.join(run_dir, "export"))
    from_camera = [int(policy(np.repeat(batch[t, -1].numpy()[..., None], 3, -1))) for t in range(len(batch))]
    assert np.array_equal(np.array(from_camera)[clear], greedy[clear])
    result = run_cli("export", run_dir, "--frame-stack", "caller", "--camera-size", "84", "84", timeout=300)
    assert result.returncode == 2 and "a stack of frames" in result.stderr
