"""Loading a finished (or interrupted) run directory: its settings, env, agent and last checkpoint."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, replace
from typing import Any

from sensorimotor.agents.env_builder import build_env, normalizers
from sensorimotor.agents.ppo import PPO, make_agent
from sensorimotor.agents.training import TrainArgs, args_from_dict
from sensorimotor.errors import UserError, check
from sensorimotor.utils.checkpoint import chosen_checkpoint, load_checkpoint
from sensorimotor.utils.device import device_for_run


@dataclass
class TrainedRun:
    train_args: TrainArgs
    env: Any
    """The training env's wrapper chain, normalizers loaded from the checkpoint and frozen."""
    agent: PPO
    checkpoint: str
    state: dict


def load_trained_run(run_dir: str, num_envs: int = 1, render_mode: str | None = None,
                     checkpoint: str | None = None) -> TrainedRun:
    """Checkpoint ``checkpoint`` (``step_<n>``; default the last complete one) of ``run_dir`` loaded
    into a fresh env and agent."""
    config_path = os.path.join(run_dir, "config.json")
    if not os.path.isfile(config_path):
        raise UserError(f"{run_dir} is not a run directory (no config.json).")
    saved = json.load(open(config_path))
    check(saved.get("agent") == "ppo", f"{run_dir} was trained by {saved.get('agent')!r}; only ppo is known.")
    train_args = args_from_dict(saved)
    checkpoint = chosen_checkpoint(run_dir, checkpoint)
    if checkpoint is None:
        raise UserError(f"{run_dir} has no complete checkpoint.")
    config = train_args.ppo
    device = device_for_run(config.device, run_dir)
    if device != config.device:
        config = replace(config, device=device)
        train_args = replace(train_args, ppo=config)
    env = build_env(train_args.env, config, num_envs=num_envs, backend=train_args.backend, render_mode=render_mode)
    agent = make_agent(config, env.single_observation_space, env.single_action_space)
    weights, state = load_checkpoint(checkpoint, agent.device)
    agent.load_weights(weights)
    for key, wrapper in normalizers(env).items():
        wrapper.load_state_dict(state[key])
        wrapper.training = False  # frozen: evaluation and export must not shift the statistics
    return TrainedRun(train_args, env, agent, checkpoint, state)
