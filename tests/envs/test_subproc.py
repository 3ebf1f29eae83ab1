"""The subproc backend gives exactly what the sync backend gives, from worker processes."""

import pytest
import torch

from sensorimotor.envs import make_vec
from tests.envs.test_conformance import random_actions


@pytest.mark.parametrize("env_id", ["CartPole-v1", "Doom-Basic-v0"])
def test_subproc_matches_sync_step_for_step(env_id):
    envs = {b: make_vec(env_id, 3, backend=b, **({"num_workers": 2} if b == "subproc" else {}))
            for b in ("sync", "subproc")}
    results = {}
    for backend, env in envs.items():
        generator = torch.Generator().manual_seed(0)
        trace = [env.reset(seed=5)]
        for _ in range(40):  # long enough for CartPole and Basic episodes to end and autoreset
            obs, reward, terminated, truncated, info = env.step(random_actions(env, generator))
            trace += [obs, info["final_obs"], reward, terminated, truncated, info["episode_return"]]
        results[backend] = trace
        env.close()
    for a, b in zip(results["sync"], results["subproc"]):
        assert a.dtype == b.dtype and torch.equal(a, b)
    assert any(t.any() for t in results["sync"][4::6] + results["sync"][5::6])  # some episode ended


def test_a_crashed_worker_is_reraised_with_its_traceback():
    """Gymnasium's AsyncVectorEnv does this; before, the parent saw a bare EOFError and a dead env."""
    import gymnasium as gym

    from sensorimotor.envs.vector.subproc import WorkerError

    gym.register("Crashing-v0", entry_point="tests.envs.crashing_env:CrashingEnv")
    env = make_vec("Crashing-v0", 2, backend="subproc")
    env.reset(seed=0)
    env.step(torch.zeros(2, dtype=torch.long))
    env.step(torch.zeros(2, dtype=torch.long))
    with pytest.raises(WorkerError, match="the simulator blew up on step 3") as caught:
        env.step(torch.zeros(2, dtype=torch.long))
    assert "crashing_env.py" in str(caught.value) and "Traceback" in str(caught.value)
    assert all(not p.is_alive() for p in env._procs)  # the other workers were closed, nothing left running
