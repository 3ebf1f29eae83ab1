"""The ``train AGENT`` flags, generated from the agent registry: the run flags plus the agent's config
under its name (``--ppo.learning-rate``, ``--dqn.buffer-size``, ``--sac.tau``)."""

from __future__ import annotations

import dataclasses

from sensorimotor.agents.registry import AgentSpec
from sensorimotor.app.run_dir import RunArgs


_TYPES: dict[str, type] = {}


def train_args_type(spec: AgentSpec) -> type:
    """A frozen dataclass ``<AGENT>TrainArgs(RunArgs)`` with one more field, ``<agent>: config_type``."""
    if spec.name in _TYPES and getattr(_TYPES[spec.name], spec.name + "_type", None) is spec.config_type:
        return _TYPES[spec.name]
    cls = dataclasses.make_dataclass(
        f"{spec.name.upper()}TrainArgs",
        [(spec.name, spec.config_type, dataclasses.field(default_factory=spec.config_type))],
        bases=(RunArgs,), frozen=True)
    cls.__doc__ = f"Train {spec.summary}"
    setattr(cls, spec.name + "_type", spec.config_type)
    _TYPES[spec.name] = cls
    return cls
