"""Each script runs end to end on a tiny budget; --wandb logs offline."""

import json
import os
import subprocess
import sys

from tests.helpers import REPO


def run_script(name, *args):
    env = dict(os.environ, WANDB_MODE="offline", WANDB_SILENT="true")
    return subprocess.run([sys.executable, os.path.join(REPO, "scripts", name), *args], capture_output=True,
                          text=True, cwd=REPO, env=env, timeout=600)


def test_train_and_evaluate_scripts_with_wandb_offline(tmp_path):
    run = tmp_path / "run"
    result = run_script("train.py", "ppo", "--env", "Pendulum-v1", "--preset", "smoke", "--run-dir", str(run),
                        "--wandb", "--no-progress")
    assert result.returncode == 0, result.stderr[-3000:]
    offline = [d for d in os.listdir(run / "wandb") if d.startswith("offline-run-")]
    assert offline, os.listdir(run / "wandb")
    logged = os.listdir(run / "wandb" / offline[0])
    assert any(name.endswith(".wandb") for name in logged)
    result = run_script("evaluate.py", str(run), "--episodes", "2")
    assert result.returncode == 0, result.stderr[-3000:]
    assert json.loads((run / "eval" / "summary.json").read_text())["episodes"] == 2


def test_export_deploy_replay_scripts_end_to_end(tmp_path):
    """Train, export, serve a sim robot in lockstep, deploy one episode, replay the recording."""
    run = tmp_path / "run"
    result = run_script("train.py", "ppo", "--env", "Pendulum-v1", "--preset", "smoke", "--run-dir", str(run),
                        "--no-progress")
    assert result.returncode == 0, result.stderr[-3000:]
    result = run_script("export.py", str(run), "--formats", "onnx")
    assert result.returncode == 0, result.stderr[-3000:]
    server = subprocess.Popen([sys.executable, os.path.join(REPO, "scripts", "serve_sim_robot.py"), "--env",
                               "Pendulum-v1", "--lockstep", "--address", "tcp://127.0.0.1:5731"],
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=REPO)
    try:
        for line in server.stdout:
            if line.startswith("serving"):
                break
        result = run_script("deploy.py", str(run), "--robot", "tcp://127.0.0.1:5731", "--episodes", "1",
                            "--hz", "400", "--record", str(tmp_path / "ep.smrec"))
        assert result.returncode == 0, result.stderr[-3000:]
        summary = json.loads(result.stdout)
        assert summary["episodes"] == 1 and summary["steps"] == 200
        result = run_script("replay.py", str(tmp_path / "ep.smrec"), "--robot", "tcp://127.0.0.1:5731")
        assert result.returncode == 0, result.stderr[-3000:]
        assert json.loads(result.stdout)["replayed"] == 200
    finally:
        server.terminate()
        out, _ = server.communicate(timeout=20)
    assert "shutdown: released" in out
