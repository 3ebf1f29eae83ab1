"""``sensorimotor collect``: scripted-expert episodes on disk, whole after a kill, continued by rerunning."""

import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

pytest.importorskip("pybullet")

from sensorimotor.utils.datasets import complete_episodes, read_episodes  # noqa: E402
from tests.helpers import REPO, run_cli  # noqa: E402

ARGS = ["--env", "KukaGraspCube-v0", "--options", "reset_mode", "fresh"]


def test_expert_episodes_are_written_whole_and_read_back(tmp_path):
    out = str(tmp_path / "grasps")
    result = run_cli("collect", *ARGS, "--out", out, "--episodes", "4", "--seed", "5", timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    summary = json.loads(result.stdout)
    assert summary["episodes_on_disk"] == 4 and summary["success_rate_this_run"] >= 0.75
    episodes = list(read_episodes(out))
    assert sorted(e["episode"] for e in episodes) == [0, 1, 2, 3]
    for e in episodes:
        steps = len(e["reward"])
        assert e["obs"]["pixels"].shape == (steps, 3, 64, 64) and e["obs"]["pixels"].dtype == np.uint8
        assert e["action"].shape == (steps, 3) and np.all(np.abs(e["action"]) <= 1)
        assert e["terminated"][-1] and not e["terminated"][:-1].any()
        assert e["reward"][-1] == float(e["info"]["grasp_success"][-1]) and not e["reward"][:-1].any()
        assert e["next_obs"]["state"].shape == (3,)
        # Each observation is the one the next step saw: the step index in the state advances by 1/8.
        np.testing.assert_allclose(np.diff(e["obs"]["state"][:, 2]), 1 / 8, atol=1e-6)


def test_a_killed_collection_keeps_its_whole_episodes_and_a_rerun_completes_it(tmp_path):
    out = str(tmp_path / "grasps")
    command = [sys.executable, "-m", "sensorimotor", "collect", *ARGS, "--out", out, "--episodes", "10"]
    process = subprocess.Popen(command, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        time.sleep(0.3)
        if os.path.exists(os.path.join(out, "dataset.json")) and len(complete_episodes(out)) >= 2:
            break
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    survived = complete_episodes(out)
    assert 2 <= len(survived) < 10
    result = run_cli("collect", *ARGS, "--out", out, "--episodes", "10", timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    summary = json.loads(result.stdout)
    assert summary["skipped"] == len(survived) and summary["episodes_on_disk"] == 10
    indices = [e["episode"] for e in read_episodes(out)]
    assert sorted(indices) == list(range(10))  # each episode whole exactly once; a torn one is dropped


def test_another_collection_in_the_same_folder_is_refused_in_one_line(tmp_path):
    out = str(tmp_path / "grasps")
    assert run_cli("collect", *ARGS, "--out", out, "--episodes", "1", timeout=300).returncode == 0
    result = run_cli("collect", *ARGS, "--out", out, "--episodes", "1", "--policy", "random", timeout=300)
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 2 and len(lines) == 1 and "holds another collection" in lines[0]
