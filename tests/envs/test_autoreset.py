"""Same-step autoreset, final_obs and episode statistics on the raw reward."""

import numpy as np
import torch

from sensorimotor.envs import make_vec


def test_truncation_at_time_limit_resets_in_the_same_step_and_keeps_final_obs():
    env = make_vec("HalfCheetah-v5", 2, backend="mujoco")  # never terminates: only truncates at 1000
    env.reset(seed=0)
    actions = torch.zeros(2, 6)
    total = torch.zeros(2, dtype=torch.float64)
    for t in range(1000):
        obs, reward, terminated, truncated, info = env.step(actions)
        total += reward.double()
        if t < 999:
            assert not truncated.any()
            assert torch.equal(info["final_obs"], obs)
    assert truncated.all() and not terminated.any()
    assert not torch.equal(info["final_obs"], obs)  # obs is the first of the next episode
    assert info["episode_length"].tolist() == [1000, 1000]
    assert torch.allclose(info["episode_return"].double(), total, rtol=1e-4)
    # The new episode starts near the initial pose while the old one ended somewhere else.
    assert (obs[:, 0].abs() < 0.2).all()


def test_termination_resets_only_the_finished_env():
    env = make_vec("Hopper-v5", 3, backend="mujoco")
    env.reset(seed=0)
    # Strong constant torque makes the hopper fall within a few dozen steps.
    actions = torch.tensor([[1.0, -1.0, 1.0], [0.0, 0.0, 0.0], [0.0, 0.0, 0.0]])
    for _ in range(200):
        obs, _, terminated, truncated, info = env.step(actions)
        if terminated[0]:
            break
    assert terminated[0] and not truncated[0]
    assert not torch.equal(info["final_obs"][0], obs[0])
    assert torch.equal(info["final_obs"][1:], obs[1:])
    assert info["episode_length"][0] > 0 and info["episode_length"][1] == 0


def test_sync_backend_final_obs_on_cartpole():
    env = make_vec("CartPole-v1", 2, backend="sync")
    env.reset(seed=0)
    for _ in range(500):
        obs, reward, terminated, truncated, info = env.step(torch.zeros(2, dtype=torch.int64))
        if terminated.any():
            break
    i = int(np.flatnonzero(terminated.numpy())[0])
    # The pole fell: the final observation has a large angle, the reset one a tiny one.
    assert abs(info["final_obs"][i, 2]) > 0.2 and abs(obs[i, 2]) < 0.05
    assert info["episode_return"][i] == info["episode_length"][i]  # CartPole pays 1 per step
