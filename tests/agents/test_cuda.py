"""The training paths on a CUDA device (marked gpu: skipped where there is none, as in CI).

These caught a clip-range tensor left on the CPU in the eager recurrent update."""

import dataclasses
import json
import os

import pytest

from sensorimotor.agents.ppo.presets import PPO_BENCH, PPO_LSTM_CLASSIC
from sensorimotor.agents.training import TrainArgs, train


@pytest.mark.gpu
@pytest.mark.parametrize("env_id, config", [
    ("HalfCheetah-v5", dataclasses.replace(PPO_BENCH, total_steps=8192, device="cuda")),
    ("CartPoleNoVel-v1", dataclasses.replace(PPO_LSTM_CLASSIC, total_steps=2048, device="cuda")),
])
def test_training_runs_on_cuda(tmp_path, env_id, config):
    run_dir = train(TrainArgs(env=env_id, run_dir=str(tmp_path / "run"), progress=False, ppo=config))
    steps = [json.loads(line)["step"] for line in open(os.path.join(run_dir, "metrics.jsonl"))]
    assert steps[-1] >= config.total_steps and os.path.isdir(os.path.join(run_dir, "checkpoints"))
