"""PPO learns: CartPole solved within a CPU budget (marked slow), through the compiled update."""

import dataclasses

import pytest

from sensorimotor.agents.ppo.presets import PPO_CLASSIC
from sensorimotor.app.evaluate import EvaluateArgs, evaluate
from sensorimotor.app.run_dir import RunArgs
from sensorimotor.app.train import train


@pytest.mark.slow
def test_ppo_solves_cartpole(tmp_path):
    config = dataclasses.replace(PPO_CLASSIC, total_steps=80_000, compile=True)
    run_dir = train("ppo", RunArgs(env="CartPole-v1", preset="classic", seed=1, run_dir=str(tmp_path / "run"),
                                   checkpoint_every=40_000, progress=False), config)
    summary = evaluate(EvaluateArgs(run_dir=run_dir, episodes=10))
    # A random policy scores ~22; the task is solved at 475 (max 500).
    assert summary["return_mean"] >= 475, summary
