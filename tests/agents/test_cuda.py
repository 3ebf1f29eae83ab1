"""The training paths on a CUDA device (marked gpu: skipped where there is none, as in CI).

These caught a clip-range tensor left on the CPU in the eager recurrent update."""

import dataclasses
import json
import os

import pytest

from sensorimotor.agents.ppo.presets import PPO_BENCH, PPO_LSTM_CLASSIC
from sensorimotor.app.run_dir import RunArgs
from sensorimotor.app.train import train


@pytest.mark.gpu
@pytest.mark.parametrize("env_id, config", [
    ("HalfCheetah-v5", dataclasses.replace(PPO_BENCH, total_steps=8192, device="cuda")),
    ("CartPoleNoVel-v1", dataclasses.replace(PPO_LSTM_CLASSIC, total_steps=2048, device="cuda")),
])
def test_training_runs_on_cuda(tmp_path, env_id, config):
    run_dir = train("ppo", RunArgs(env=env_id, run_dir=str(tmp_path / "run"), progress=False), config)
    steps = [json.loads(line)["step"] for line in open(os.path.join(run_dir, "metrics.jsonl"))]
    assert steps[-1] >= config.total_steps and os.path.isdir(os.path.join(run_dir, "checkpoints"))


@pytest.mark.gpu
@pytest.mark.parametrize("prioritized", [False, True])
def test_dqn_trains_on_cuda_with_the_replay_there(tmp_path, prioritized):
    from sensorimotor.agents.dqn.config import DQN_MINATAR

    config = dataclasses.replace(DQN_MINATAR, total_steps=3000, learning_starts=500, device="cuda",
                                 prioritized=prioritized)
    run_dir = train("dqn", RunArgs(env="MinAtar/Breakout-v1", run_dir=str(tmp_path / "run"), progress=False,
                                   checkpoint_every=1500), config)
    metrics = [json.loads(line) for line in open(os.path.join(run_dir, "metrics.jsonl"))]
    assert metrics[-1]["step"] >= 3000 and "loss" in metrics[-1]
