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
