"""The driving pipeline through the CLI: an augmented expert dataset, behaviour cloning from it, PilotNet's
autonomy metric on held-out tracks, and the one-line errors on bad input."""

import json
import os

import numpy as np
import pytest

pytest.importorskip("pybullet")

from sensorimotor.hardware.safety import SafetyConfig  # noqa: E402
from sensorimotor.hardware.server import RobotServer  # noqa: E402
from sensorimotor.hardware.sim_car import SimCar  # noqa: E402
from sensorimotor.utils.datasets import read_episodes  # noqa: E402
from tests.helpers import run_cli  # noqa: E402

SHORT = ["--options", "laps", "0.05", "episodes_per_track", "1"]  # ~1.3 m a drive: ~18 steps


def test_collect_augmented_views_train_bc_from_them_and_measure_autonomy(tmp_path):
    data, run = str(tmp_path / "drive"), str(tmp_path / "bc")
    result = run_cli("collect", "--env", "RacecarDrive64-v0", "--out", data, "--episodes", "2", "--augment", "2",
                     *SHORT, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    episodes = list(read_episodes(data))
    steps = sum(len(e["reward"]) for e in episodes)
    for e in episodes:
        t = len(e["reward"])
        assert e["obs"].shape == (t, 3, 64, 64) and e["augmented"]["obs"].shape == (t, 2, 3, 64, 64)
        assert e["augmented"]["action"].shape == (t, 2, 1) and np.all(np.abs(e["augmented"]["action"]) <= 1)
        assert e["truncated"][-1] and e["info"]["progress"][-1] >= 0.05

    result = run_cli("train", "bc", "--env", "RacecarDrive64-v0", "--preset", "smoke", "--bc.dagger-iterations", "0",
                     "--bc.dataset", data, "--bc.total-steps", str(3 * steps), "--run-dir", run, "--no-progress",
                     timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    rows = [json.loads(line) for line in open(os.path.join(run, "metrics.jsonl"))]
    assert rows[0]["demonstrations"] == 3 * steps  # every frame and both views of each, once

    result = run_cli("autonomy", run, "--tracks", "2", "--laps", "0.05", timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    summary = json.loads(result.stdout)
    assert summary["env"] == "RacecarDrive64-Test-v0" and len(summary["per_track_autonomy"]) == 2
    assert 0.0 <= summary["autonomy"] <= 1.0 and summary["laps_mean"] > 0
    assert os.path.exists(os.path.join(run, "eval", "autonomy.json"))

    # The same policy on the bridge: exported for the served car with a cruise throttle, deployed over
    # loopback to the driving world served as a car, scored from the deploy recording.
    result = run_cli("export", run, "--formats", "onnx", "--robot-spec", "sim-car", "--append-action", "1.0")
    assert result.returncode == 0, result.stderr[-2000:]
    manifest = json.load(open(os.path.join(run, "export", "manifest.json")))
    assert manifest["outputs"]["action"]["shape"] == ["batch", 2] and manifest["robot_spec"]["name"] == "sim-car"
    car = SimCar("RacecarDrive64-Test-v0", seed=0, laps=0.05, interventions=True)
    server = RobotServer(car, "tcp://127.0.0.1:0", safety=SafetyConfig(hold_after=40, stop_after=200), lockstep=True)
    thread = server.start()
    recording = str(tmp_path / "drive.smrec")
    try:
        result = run_cli("deploy", run, "--robot", server.bound_address, "--episodes", "2", "--record", recording,
                         timeout=300)
    finally:
        server.stop()
        thread.join(10)
        car.close()
    assert result.returncode == 0, result.stderr[-2000:]
    deployed = json.loads(result.stdout)
    assert deployed["episodes"] == 2 and deployed["goals_rejected"] == 0
    result = run_cli("autonomy", "--recording", recording)
    assert result.returncode == 0, result.stderr[-2000:]
    bridge = json.loads(result.stdout)
    assert bridge["episodes"] == 2 and 0.0 <= bridge["autonomy"] <= 1.0 and bridge["laps_mean"] >= 0.05
    assert bridge["elapsed_seconds"] == pytest.approx(deployed["steps"] * 0.05)


def test_bad_driving_input_is_one_line(tmp_path):
    result = run_cli("train", "bc", "--env", "CartPole-v1", "--preset", "smoke", "--run-dir", str(tmp_path / "r"))
    assert result.returncode == 2 and "has no expert" in result.stderr and "Traceback" not in result.stderr
    result = run_cli("train", "bc", "--env", "RacecarDrive64-v0", "--preset", "smoke", "--bc.dataset",
                     str(tmp_path / "nothing"), "--run-dir", str(tmp_path / "r2"))
    assert result.returncode == 2 and "not an episode dataset" in result.stderr
    result = run_cli("collect", "--env", "KukaGraspCube-v0", "--out", str(tmp_path / "d"), "--episodes", "1",
                     "--augment", "2")
    assert result.returncode == 2 and "cannot render augmented views" in result.stderr
    result = run_cli("autonomy", "--expert", "--env", "CartPole-v1", "--tracks", "2")
    assert result.returncode == 2 and "not a driving task" in result.stderr
