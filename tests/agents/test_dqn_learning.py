"""DQN learns from pixels: MinAtar Breakout well above chance within a CPU budget (marked slow)."""

import dataclasses

import pytest
import torch

from sensorimotor.agents.dqn.config import DQN_MINATAR
from sensorimotor.app.evaluate import run_episodes
from sensorimotor.app.loading import load_run
from sensorimotor.app.run_dir import RunArgs
from sensorimotor.app.train import train
from sensorimotor.envs import make_vec


@pytest.mark.slow
def test_dqn_learns_minatar_breakout(tmp_path):
    config = dataclasses.replace(DQN_MINATAR, total_steps=50_000, epsilon_fraction=0.2)
    threads = torch.get_num_threads()
    run_dir = train("dqn", RunArgs(env="MinAtar/Breakout-v1", seed=0, run_dir=str(tmp_path / "run"),
                                   checkpoint_every=50_000, progress=False, save_replay=False), config)
    assert torch.get_num_threads() == threads  # the one-thread setting for small nets does not leak
    run = load_run(run_dir, overrides={"eval_epsilon": 0.0})
    run.env.close()
    assert run.step == 50_000
    env = make_vec("MinAtar/Breakout-v1", 4)
    returns, _, _ = run_episodes(run.agent, env, episodes=20, deterministic=True, seed=123)
    env.close()
    # A random policy scores 0.5 (MinAtar's README); this budget reaches 3-6 greedy.
    assert sum(returns) / len(returns) >= 2.5, returns
