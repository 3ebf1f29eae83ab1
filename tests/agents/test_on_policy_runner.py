"""The on-policy runner's episode statistics: whole episodes counted, and how they ended."""

import dataclasses

import pytest

from sensorimotor.agents.env_builder import build_env
from sensorimotor.agents.on_policy_runner import OnPolicyRunner
from sensorimotor.agents.ppo import PPO
from sensorimotor.agents.ppo.presets import PPO_CLASSIC


class Quiet:
    def log(self, step, metrics):
        pass


def episode_metrics(env_id: str, n_steps: int) -> dict:
    config = dataclasses.replace(PPO_CLASSIC, num_envs=2, n_steps=n_steps, compile=False)
    env = build_env(env_id, config)
    agent = PPO(config, env.single_observation_space, env.single_action_space)
    runner = OnPolicyRunner(agent, env, Quiet(), save=lambda s: None, checkpoint_every=10**9, seed=0,
                            progress_bar=False)
    runner.collect(env.reset(seed=0))
    env.close()
    metrics = runner.episode_metrics()
    assert runner.episode_metrics() == {}  # the counters start again after each call
    return metrics


@pytest.mark.parametrize("env_id, n_steps, fraction", [
    ("CartPole-v1", 256, 1.0),  # an untrained pole falls (terminated) long before the 500-step limit
    ("Pendulum-v1", 512, 0.0),  # a pendulum never terminates: every episode is cut at 200 steps
])
def test_terminated_fraction_tells_the_task_ending_from_the_time_limit(env_id, n_steps, fraction):
    metrics = episode_metrics(env_id, n_steps)
    assert metrics["episodes"] >= 4
    assert metrics["terminated_fraction"] == fraction
    if env_id == "Pendulum-v1":
        assert metrics["episodes"] == 4 and metrics["episode_length"] == 200  # 2 envs x 2 whole episodes in 512 steps
