"""``sensorimotor tune``: a two-trial sweep whose trials are ordinary run directories, and bad spaces."""

from __future__ import annotations

import csv
import json

import pytest

from sensorimotor.errors import UserError
from tests.helpers import run_cli

ray = pytest.importorskip("ray")


@pytest.fixture(scope="module")
def local_ray():
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


def test_two_trials_become_run_directories_and_the_best_is_written(local_ray, tmp_path):
    from sensorimotor.app.tune import TuneArgs, tune_agent

    space = tmp_path / "space.yaml"
    space.write_text("dqn.learning-rate: {grid: [1.0e-4, 1.0e-3]}\n")
    summary = tune_agent(TuneArgs(agent="dqn", space=str(space), env="CartPole-v1", preset="smoke", trials=1,
                                  steps=300, out=str(tmp_path / "sweep")))
    rows = list(csv.DictReader(open(summary["results"])))
    assert len(rows) == 2 and {float(r["learning_rate"]) for r in rows} == {1e-4, 1e-3}
    assert all(r["error"] == "" and float(r["step"]) >= 300 for r in rows)
    best = json.load(open(tmp_path / "sweep" / "best.json"))["best"]
    saved = json.load(open(best["config_json"]))
    assert saved["dqn"]["learning_rate"] == pytest.approx(float(best["learning_rate"]))
    assert saved["dqn"]["total_steps"] == 300
    # A trial is a normal run directory: evaluate takes it.
    result = run_cli("evaluate", best["run_dir"], "--episodes", "2")
    assert result.returncode == 0, result.stderr[-2000:]


def test_a_space_naming_an_unknown_flag_is_one_line(tmp_path):
    space = tmp_path / "space.yaml"
    space.write_text("learning_rat: {loguniform: [1.0e-4, 1.0e-2]}\n")
    result = run_cli("tune", "dqn", "--env", "CartPole-v1", "--space", str(space), "--out", str(tmp_path / "o"))
    assert result.returncode == 2 and "names an unknown flag 'learning_rat'" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_malformed_distribution_is_one_line(tmp_path):
    from sensorimotor.agents.dqn import DQNConfig
    from sensorimotor.app.tune import load_space

    space = tmp_path / "space.yaml"
    space.write_text("learning_rate: {normal: [0, 1]}\n")
    with pytest.raises(UserError, match="must be one of"):
        load_space(str(space), DQNConfig, "dqn")
    space.write_text("learning_rate: {uniform: [0.1]}\n")
    with pytest.raises(UserError, match=r"takes \[low, high\]"):
        load_space(str(space), DQNConfig, "dqn")
