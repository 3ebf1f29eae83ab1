"""Recurrent PPO learns what needs memory, within CPU budgets (marked slow). The pendulum and the
memory-task tests live in files of their own so that pytest-xdist (--dist loadfile) can run them
beside this one (the suite's longest tests, one per file)."""

import pytest

from sensorimotor.agents.ppo.presets import PPO_LSTM_CLASSIC
from sensorimotor.app.evaluate import EvaluateArgs, evaluate
from sensorimotor.app.run_dir import RunArgs
from sensorimotor.app.train import train


def train_and_evaluate(tmp_path, env, preset, config, name, episodes=10):
    run_dir = train("ppo", RunArgs(env=env, preset=preset, seed=0, run_dir=str(tmp_path / name),
                                   checkpoint_every=10**9, progress=False), config)
    return evaluate(EvaluateArgs(run_dir=run_dir, episodes=episodes))


@pytest.mark.slow
def test_lstm_balances_cartpole_without_velocities(tmp_path):
    summary = train_and_evaluate(tmp_path, "CartPoleNoVel-v1", "lstm-classic", PPO_LSTM_CLASSIC, "cartpole")
    # Positions alone: a memoryless policy cannot infer the pole's velocity (rl-zoo's RecurrentPPO: 500).
    assert summary["return_mean"] >= 475, summary
