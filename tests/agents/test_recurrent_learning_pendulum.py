"""Recurrent PPO swings up velocity-masked Pendulum within a CPU budget (marked slow; ~3 minutes)."""

import pytest

from sensorimotor.agents.ppo.presets import PPO_LSTM_PENDULUM
from tests.agents.test_recurrent_learning import train_and_evaluate


@pytest.mark.slow
def test_lstm_swings_up_pendulum_without_velocities(tmp_path):
    summary = train_and_evaluate(tmp_path, "PendulumNoVel-v1", "lstm-pendulum", PPO_LSTM_PENDULUM, "pendulum")
    # cos and sin of the angle only (rl-zoo's RecurrentPPO with gSDE: -218; random: about -1200).
    assert summary["return_mean"] > -200, summary
