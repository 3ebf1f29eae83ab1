"""``--env-options KEY VALUE ...``: task options reach the task in training, evaluation and resume alike."""

import json
import os

import torch

from sensorimotor.app import api
from sensorimotor.app.loading import load_run
from tests.helpers import run_cli


def episode_length(env) -> int:
    """Steps until the first env's first episode ends, acting with action 0."""
    env.reset(seed=0)
    for t in range(1, 1000):
        _, _, terminated, truncated, _ = env.step(torch.zeros(env.num_envs, dtype=torch.long))
        if bool(terminated[0] | truncated[0]):
            return t
    raise AssertionError("no episode ended")


def test_train_evaluate_and_resume_build_the_task_with_its_options(tmp_path):
    # CueDelay's episodes last delay + 2 steps: 10 by default, 5 with delay=3.
    run_dir = str(tmp_path / "run")
    result = run_cli("train", "ppo", "--env", "CueDelay-v0", "--preset", "smoke", "--env-options", "delay", "3",
                     "--ppo.total-steps", "256", "--checkpoint-every", "128", "--run-dir", run_dir, "--no-progress")
    assert result.returncode == 0, result.stderr[-3000:]
    assert json.load(open(os.path.join(run_dir, "config.json")))["env_options"] == {"delay": "3"}
    logged = [json.loads(line) for line in open(os.path.join(run_dir, "metrics.jsonl"))]
    assert {row["episode_length"] for row in logged if "episode_length" in row} == {5.0}

    loaded = load_run(run_dir)
    try:
        assert episode_length(loaded.env) == 5
    finally:
        loaded.env.close()

    config = json.load(open(os.path.join(run_dir, "config.json")))
    config["ppo"]["total_steps"] = 384
    json.dump(config, open(os.path.join(run_dir, "config.json"), "w"))
    resumed = run_cli("train", "--resume", run_dir, "--no-progress")
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    logged = [json.loads(line) for line in open(os.path.join(run_dir, "metrics.jsonl"))]
    assert logged[-1]["step"] == 384 and {row["episode_length"] for row in logged if "episode_length" in row} == {5.0}


def test_an_option_the_task_does_not_take_is_one_line_and_writes_no_run(tmp_path):
    run_dir = tmp_path / "run"
    result = run_cli("train", "ppo", "--env", "CueDelay-v0", "--preset", "smoke", "--env-options", "laps", "1",
                     "--run-dir", str(run_dir), "--no-progress")
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1].startswith("error: CueDelay-v0 does not take the option(s) given (laps)")
    assert "Traceback" not in result.stderr and not (run_dir / "config.json").exists()


def test_the_python_api_takes_options_as_a_dict(tmp_path):
    trainer = api.make("ppo", "CueDelay-v0", preset="smoke", env_options={"delay": 3}, run_dir=str(tmp_path / "run"))
    trainer.learn(128)
    assert json.load(open(tmp_path / "run" / "config.json"))["env_options"] == {"delay": "3"}
    loaded = load_run(str(tmp_path / "run"))
    try:
        assert episode_length(loaded.env) == 5
    finally:
        loaded.env.close()
