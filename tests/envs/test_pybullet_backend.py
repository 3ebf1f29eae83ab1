"""The ``pybullet`` backend: worker processes that give exactly what ``sync`` gives, fail loudly and
leave nothing running."""

import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest
import torch

pytest.importorskip("pybullet")

from sensorimotor.envs import make_vec  # noqa: E402
from tests.envs.test_conformance import random_actions  # noqa: E402


def trace(env, steps=12):
    generator = torch.Generator().manual_seed(0)
    out = [env.reset(seed=11)]
    for _ in range(steps):  # random terminate actions end KukaGrasp episodes within a few steps
        obs, reward, terminated, truncated, info = env.step(random_actions(env, generator))
        out += [obs, info["final_obs"], reward, terminated, info["episode_return"], info["grasp_success"]]
    env.close()
    return out


def test_pybullet_backend_equals_sync_step_for_step_in_the_fresh_reset_mode():
    """Fresh resets rebuild the world from the seed: bitwise equal across processes (DESIGN.md 6)."""
    sync = trace(make_vec("KukaGrasp-v0", 2, backend="sync", reset_mode="fresh"))
    workers = trace(make_vec("KukaGrasp-v0", 2, backend="pybullet", num_workers=2, reset_mode="fresh"))
    for a, b in zip(sync, workers):
        if isinstance(a, dict):
            assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
        else:
            assert a.dtype == b.dtype and torch.equal(a, b)
    assert any(bool(t.any()) for t in sync[4::6])  # episodes ended and reset inside the run


def test_a_crashed_worker_is_reraised_with_its_traceback_and_the_others_are_closed():
    import gymnasium as gym

    from sensorimotor.envs.vector.pybullet import PyBulletVecEnv
    from sensorimotor.envs.vector.subproc import WorkerError

    gym.register("CrashingBullet-v0", entry_point="tests.envs.crashing_env:CrashingEnv")
    env = PyBulletVecEnv("CrashingBullet-v0", 4, torch.device("cpu"), num_workers=2)
    env.reset(seed=0)
    env.step(torch.zeros(4, dtype=torch.long))
    env.step(torch.zeros(4, dtype=torch.long))
    with pytest.raises(WorkerError, match="the simulator blew up on step 3") as caught:
        env.step(torch.zeros(4, dtype=torch.long))
    assert "crashing_env.py" in str(caught.value) and "Traceback" in str(caught.value)
    assert all(not p.is_alive() for p in env._procs)


PARENT = textwrap.dedent("""
    import signal, sys, time, torch
    from sensorimotor.envs import make_vec
    if __name__ == "__main__":
        # As in a terminal: pytest-xdist's workers ignore SIGINT, and children inherit that.
        signal.signal(signal.SIGINT, signal.default_int_handler)
        env = make_vec("KukaGraspCube-v0", 2, backend="pybullet", num_workers=2)
        env.reset(seed=0)
        print(" ".join(str(p.pid) for p in env._procs), flush=True)
        while True:
            env.step(torch.zeros(2, 3))
""")


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as f:  # a zombie waiting for its (dead) parent is not running
        return f.read().split()[2] != "Z"


# SIGTERM without a handler ends the parent as SIGKILL does: the workers see the same death.
@pytest.mark.parametrize("how", ["sigint", "sigkill"])
def test_nothing_is_left_running_when_the_parent_is_interrupted_or_killed(tmp_path, how):
    script = tmp_path / "parent.py"
    script.write_text(PARENT)
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    parent = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True, cwd=root, env={**os.environ, "PYTHONPATH": root})
    workers = []
    try:
        workers = [int(p) for p in parent.stdout.readline().split()]
        assert len(workers) == 2 and all(alive(p) for p in workers)
        time.sleep(0.5)
        parent.send_signal({"sigint": signal.SIGINT, "sigkill": signal.SIGKILL}[how])
        parent.wait(timeout=30)
        deadline = time.monotonic() + 15
        while any(alive(p) for p in workers) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not any(alive(p) for p in workers)
        if how == "sigint":  # Ctrl-C: the parent's KeyboardInterrupt, not a traceback from every worker
            assert parent.stderr.read().count("KeyboardInterrupt") == 1
    finally:  # a failing case must not leave a stepping parent (and its workers) behind
        parent.kill()
        parent.wait(timeout=30)
        for pid in workers:
            if alive(pid):
                os.kill(pid, signal.SIGKILL)


def test_workers_run_in_their_own_sessions():
    env = make_vec("KukaGraspCube-v0", 2, backend="pybullet", num_workers=2)
    try:
        assert all(os.getsid(p.pid) == p.pid for p in env._procs)
        assert env.num_workers == 2
    finally:
        env.close()
