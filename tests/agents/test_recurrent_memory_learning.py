"""Recurrent PPO solves a memory task a feed-forward policy cannot beat chance on (marked slow; in a
file of its own so pytest-xdist runs it beside the other learning tests)."""

import dataclasses

import pytest

from sensorimotor.agents.ppo.presets import PPO_LSTM_MEMORY
from tests.agents.test_recurrent_learning import train_and_evaluate


@pytest.mark.slow
def test_memory_task_recurrent_solves_feedforward_stays_at_chance(tmp_path):
    recurrent = train_and_evaluate(tmp_path, "CueDelay-v0", "lstm-memory", PPO_LSTM_MEMORY, "lstm", episodes=200)
    feedforward_config = dataclasses.replace(PPO_LSTM_MEMORY, recurrent=None, hidden=(64, 64))
    feedforward = train_and_evaluate(tmp_path, "CueDelay-v0", "lstm-memory", feedforward_config, "mlp",
                                     episodes=200)
    # +1 for naming the cue after 8 blank steps, -1 otherwise: chance is 0.
    assert recurrent["return_mean"] >= 0.9, recurrent
    assert abs(feedforward["return_mean"]) <= 0.25, feedforward
