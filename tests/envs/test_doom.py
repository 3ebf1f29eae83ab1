"""VizDoom scenarios: pixels, truncation at the scenario's timeout, clear errors."""

import os
import signal
import subprocess
import sys
import time

import pytest

from sensorimotor.envs.doom import OBS_SHAPE, DoomEnv
from sensorimotor.errors import UserError
from tests.helpers import REPO


def test_missing_scenario_lists_the_shipped_ones():
    with pytest.raises(UserError, match="not found; shipped scenarios: .*my_way_home"):
        DoomEnv("no_such_map")


def test_timeout_is_a_truncation_and_frames_are_small_gray_pixels():
    env = DoomEnv("my_way_home", render_mode="rgb_array")
    obs, _ = env.reset(seed=0)
    assert obs.shape == OBS_SHAPE and obs.dtype.name == "uint8" and obs.std() > 0
    assert env.render().shape == (120, 160, 3)
    steps, terminated, truncated = 0, False, False
    while not (terminated or truncated):
        _, _, terminated, truncated, _ = env.step(2)  # keep walking forward: the goal is rarely found
        steps += 1
    env.close()
    # my_way_home times out after 2100 tics: 525 actions of 4 tics.
    assert truncated and not terminated and steps == 525


def _descendants(pid: int) -> dict[int, str]:
    """``{pid: command name}`` of every live process below ``pid`` (from /proc; zombies left out)."""
    parents, names = {}, {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = open(f"/proc/{entry}/stat").read()
        except OSError:
            continue
        name_end = stat.rindex(")")
        state, ppid = stat[name_end + 2:].split()[:2]
        if state != "Z":
            parents[int(entry)], names[int(entry)] = int(ppid), stat[stat.index("(") + 1:name_end]
    found, frontier = {}, [pid]
    while frontier:
        parent = frontier.pop()
        for child, ppid in parents.items():
            if ppid == parent and child not in found:
                found[child] = names[child]
                frontier.append(child)
    return found


def _alive(pid: int) -> bool:
    try:
        return open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def test_a_training_run_stopped_with_sigterm_closes_its_doom_engines(tmp_path):
    """A scheduler's SIGTERM ends the run as Ctrl-C does: checkpoint kept, and the VizDoom engine
    processes (one per env) closed, not left running with no parent."""
    command = [sys.executable, "-m", "sensorimotor", "train", "ppo", "--env", "Doom-Basic-v0", "--ppo.num-envs", "2",
               "--ppo.total-steps", "1000000", "--run-dir", str(tmp_path / "run"), "--no-progress"]
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO,
                            env=dict(os.environ, PYTHONUNBUFFERED="1"))
    try:
        deadline, engines = time.monotonic() + 180, {}
        while time.monotonic() < deadline and len(engines) < 2 and proc.poll() is None:
            time.sleep(0.5)
            engines = {pid: name for pid, name in _descendants(proc.pid).items() if name == "vizdoom"}
        assert len(engines) == 2, (engines, proc.poll())
        time.sleep(3)  # into the training loop
        proc.send_signal(signal.SIGTERM)
        _, stderr = proc.communicate(timeout=120)
    finally:
        proc.kill()
    assert proc.returncode == 130 and "interrupted" in stderr and "Traceback" not in stderr, stderr[-2000:]
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(_alive(pid) for pid in engines):
        time.sleep(0.2)
    assert not any(_alive(pid) for pid in engines)
