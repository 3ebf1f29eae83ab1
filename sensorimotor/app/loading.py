"""Loading a trained (or interrupted) run for evaluation, export and the Python API: its settings, an
evaluation env with the training wrappers (normalizers loaded and frozen) and the agent's weights."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from sensorimotor.agents.registry import AgentSpec
from sensorimotor.app.checkpointing import load_agent_checkpoint
from sensorimotor.app.run_dir import RunArgs, RunDir
from sensorimotor.errors import UserError
from sensorimotor.utils.device import device_for_run
from sensorimotor.utils.options import parse_options


@dataclass
class LoadedRun:
    spec: AgentSpec
    run: RunArgs
    config: Any
    env: Any
    """The evaluation env, or None when loaded without one."""
    agent: Any
    checkpoint: str
    state: dict
    """The checkpoint's run state (``step`` and what the agent saved)."""

    @property
    def step(self) -> int:
        return int(self.state["step"])


def on_device(config: Any, device: str) -> Any:
    """``config`` with every set ``*device`` field moved to ``device``."""
    moved = {f.name: device for f in dataclasses.fields(config)
             if f.name.endswith("device") and getattr(config, f.name) is not None}
    return dataclasses.replace(config, **moved)


def load_run(path: str, num_envs: int = 1, render_mode: str | None = None, checkpoint: str | None = None,
             overrides: dict[str, Any] | None = None, env_id: str | None = None) -> LoadedRun:
    """Checkpoint ``checkpoint`` (``step_<n>``; default the last complete one) of the run in ``path``,
    loaded into a fresh evaluation env of ``num_envs`` envs and a fresh agent. ``overrides`` replace
    config fields that only change acting (e.g. DQN's ``eval_epsilon``). ``env_id``: evaluate on this
    registered env instead of the training one (a held-out split: same observation and action spaces)."""
    run_dir = RunDir(path)
    spec, run, config = run_dir.read()
    device = device_for_run(config.device, path)
    if device != config.device:
        config = on_device(config, device)
    if overrides:
        config = dataclasses.replace(config, **overrides)
    chosen = run_dir.checkpoint(checkpoint)
    options = parse_options(run.env_options)  # a held-out split keeps the options it was trained with
    if env_id is not None and env_id != run.env:
        env = spec.make_env(env_id, config, num_envs=num_envs, render_mode=render_mode, training=False,
                            env_options=options)
        trained = spec.make_env(run.env, config, num_envs=1, backend="sync", training=False, env_options=options)
        try:
            same = (env.single_observation_space == trained.single_observation_space
                    and env.single_action_space == trained.single_action_space)
        finally:
            trained.close()
        if not same:
            env.close()
            raise UserError(f"{env_id} does not observe and act as {run.env}, which {path} was trained on: "
                            "evaluate on a split of the same task.")
        run = dataclasses.replace(run, env=env_id)
    else:
        env = spec.make_env(run.env, config, num_envs=num_envs, backend=run.backend, render_mode=render_mode,
                            training=False, env_options=options)
    try:
        agent = spec.build(config, env.single_observation_space, env.single_action_space)
        state = load_agent_checkpoint(chosen, spec.name, agent, env, training=False)
    except BaseException:
        env.close()
        raise
    return LoadedRun(spec, run, config, env, agent, chosen, state)
