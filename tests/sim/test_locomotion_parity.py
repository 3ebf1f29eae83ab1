"""Our batched MuJoCo tasks against Gymnasium's v5 envs, step for step, with the same actions."""

import gymnasium as gym
import numpy as np
import pytest
import torch

from sensorimotor.envs import make_vec
from sensorimotor.sim.locomotion import TASKS


@pytest.mark.parametrize("env_id", [*TASKS, "InvertedPendulum-v5"])
def test_matches_gymnasium(env_id):
    reference = gym.make(env_id)
    ref_obs, _ = reference.reset(seed=3)
    data = reference.unwrapped.data
    ours = make_vec(env_id, 2, backend="mujoco")
    ours.reset(seed=0)
    obs = ours.set_state(0, data.qpos.copy(), data.qvel.copy())
    np.testing.assert_allclose(obs[0].numpy(), ref_obs, rtol=1e-5, atol=1e-5)
    rng = np.random.default_rng(0)
    for t in range(150):
        action = rng.uniform(-1, 1, reference.action_space.shape).astype(np.float32)
        ref_obs, ref_reward, ref_terminated, _, _ = reference.step(action)
        _, reward, terminated, _, info = ours.step(torch.tensor(np.stack([action, action])))
        scale = 1 + np.abs(ref_obs).max()
        np.testing.assert_allclose(info["final_obs"][0].numpy() / scale, ref_obs / scale, atol=1e-5)
        assert abs(reward[0].item() - ref_reward) < 1e-4 * (1 + abs(ref_reward))
        assert bool(terminated[0]) == ref_terminated
        if ref_terminated:
            break


def test_reset_noise_matches_gymnasium_distribution():
    # HalfCheetah: qpos ~ U(-0.1, 0.1) around qpos0; observation excludes x.
    env = make_vec("HalfCheetah-v5", 256, backend="mujoco")
    obs = env.reset(seed=0).numpy()
    assert np.abs(obs[:, :8]).max() <= 0.1 + 1e-6
    assert 0.07 < obs[:, 8:].std() < 0.13  # qvel ~ 0.1 * N(0, 1)
