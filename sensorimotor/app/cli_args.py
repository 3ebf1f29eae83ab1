"""The ``train AGENT`` flags, generated from the agent registry: the run flags plus the agent's config
under its name (``--ppo.learning-rate``, ``--dqn.buffer-size``, ``--sac.tau``)."""

from __future__ import annotations

import dataclasses

from sensorimotor.agents.registry import AgentSpec
from sensorimotor.app.run_dir import RunArgs


_TYPES: dict[tuple[str, type], type] = {}


def train_args_type(spec: AgentSpec) -> type:
    """A frozen dataclass ``<AGENT>TrainArgs(RunArgs)`` with one more field, ``<agent>: config_type``."""
    key = (spec.name, spec.config_type)
    if key in _TYPES:
        return _TYPES[key]
    cls = dataclasses.make_dataclass(
        f"{spec.name.upper()}TrainArgs",
        [(spec.name, spec.config_type, dataclasses.field(default_factory=spec.config_type))],
        bases=(RunArgs,), frozen=True)
    cls.__doc__ = f"Train {spec.summary}"
    _TYPES[key] = cls
    return cls
