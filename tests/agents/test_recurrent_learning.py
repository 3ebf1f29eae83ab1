"""Recurrent PPO learns what needs memory, within CPU budgets (marked slow). The pendulum test, the
longest of the suite, lives in its own file so that pytest-xdist (--dist loadfile) can run it beside
these."""

import dataclasses

import pytest

from sensorimotor.agents.ppo.presets import PPO_LSTM_CLASSIC, PPO_LSTM_MEMORY
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


@pytest.mark.slow
def test_memory_task_recurrent_solves_feedforward_stays_at_chance(tmp_path):
    recurrent = train_and_evaluate(tmp_path, "CueDelay-v0", "lstm-memory", PPO_LSTM_MEMORY, "lstm", episodes=200)
    feedforward_config = dataclasses.replace(PPO_LSTM_MEMORY, recurrent=None, hidden=(64, 64))
    feedforward = train_and_evaluate(tmp_path, "CueDelay-v0", "lstm-memory", feedforward_config, "mlp",
                                     episodes=200)
    # +1 for naming the cue after 8 blank steps, -1 otherwise: chance is 0.
    assert recurrent["return_mean"] >= 0.9, recurrent
    assert abs(feedforward["return_mean"]) <= 0.25, feedforward
