"""VizDoom scenarios: pixels, truncation at the scenario's timeout, clear errors."""

import os
import signal
import subprocess
import sys
import time

import pytest

from sensorimotor.envs.doom import OBS_SHAPE, DoomEnv, button_combos
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


def test_button_combinations_never_press_opposite_buttons():
    # health_gathering's buttons: the three alone, then forward with either turn.
    assert button_combos(["TURN_LEFT", "TURN_RIGHT", "MOVE_FORWARD"]) == [
        [1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 0, 1], [0, 1, 1]]
    # my_way_home's five: turn (none, left, right) x forward (no, yes) x strafe (none, left, right),
    # less the empty press: 3 * 2 * 3 - 1.
    combos = button_combos(["TURN_LEFT", "TURN_RIGHT", "MOVE_FORWARD", "MOVE_LEFT", "MOVE_RIGHT"])
    assert len(combos) == 17 and len({tuple(c) for c in combos}) == 17
    assert combos[:5] == [[1, 0, 0, 0, 0], [0, 1, 0, 0, 0], [0, 0, 1, 0, 0], [0, 0, 0, 1, 0], [0, 0, 0, 0, 1]]
    assert not any((c[0] and c[1]) or (c[3] and c[4]) for c in combos)


def test_combo_ids_act_with_button_combinations():
    env = DoomEnv("health_gathering", actions="combos")
    assert env.action_space.n == 5
    env.reset(seed=0)
    env.step(4)
    assert env.game.get_last_action() == [0.0, 1.0, 1.0]  # right turn and forward held together
    env.close()
    with pytest.raises(UserError, match="unknown Doom action set 'chords'"):
        DoomEnv("health_gathering", actions="chords")


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
