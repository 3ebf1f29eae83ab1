"""A run directory and its ``config.json``: the one place that writes and reads them (DESIGN.md 2.4).

``config.json`` is ``{"agent": NAME, <the run flags>, NAME: <the agent's config>}``. It is read back
through :func:`from_dict`, one loader for every agent that warns about keys it does not know (a run
written by another version) instead of failing or dropping them silently.
"""

from __future__ import annotations

import dataclasses
import json
import os
import sys
import time
from dataclasses import dataclass
from typing import Any

from sensorimotor.agents.registry import AgentSpec, agent_spec
from sensorimotor.errors import UserError
from sensorimotor.utils.checkpoint import chosen_checkpoint


@dataclass(frozen=True)
class RunArgs:
    """What every training run takes, whatever the agent."""

    env: str = "HalfCheetah-v5"
    """Registered env id (``sensorimotor.envs.list_envs()``)."""
    preset: str | None = None
    """Named preset of the agent's config; default: the env's own (see agents/<agent>/ presets)."""
    env_options: dict[str, str] = dataclasses.field(default_factory=dict)
    """Options for the task's constructor, as ``collect --options``: ``--env-options laps 1 speed 2.5``
    (numbers and true/false read as such); used in training, evaluation and the collectors alike."""
    backend: str | None = None
    """Vector backend (``sync``, ``mujoco``, ``ale``...); default: the env's fastest."""
    seed: int = 0
    run_dir: str | None = None
    """Where config, metrics, checkpoints and videos go; default ``runs/<env>-<agent>-s<seed>-<time>``."""
    resume: str | None = None
    """A run directory to continue from its last complete checkpoint (other flags are ignored)."""
    checkpoint_every: int = 100_000
    """Environment steps between checkpoints."""
    keep_checkpoints: int = 3
    """Newest checkpoints kept on disk (older ones are deleted); more keep a window of them for
    ``sensorimotor average``."""
    save_replay: bool = True
    """Off-policy agents: save the replay with each checkpoint (newest only) so a resumed run keeps it;
    off: smaller, faster checkpoints and a resume that refills the replay first."""
    wandb: bool = False
    """Also log to wandb (offline mode when not logged in)."""
    progress: bool = True
    """Show a progress bar with steps/s and recent return."""
    collectors: int = 0
    """Off-policy agents: collect with this many Ray actors (each its own envs and policy copy) while the
    learner trains; 0: the run's own envs in this process."""
    envs_per_collector: int = 1
    """Envs in each Ray collector."""
    broadcast_every: int = 50
    """Updates between weight broadcasts to the Ray collectors (each carries a version number)."""
    ray_address: str | None = None
    """A Ray cluster to run the collectors on (``ray start --head`` prints it); default a local one."""


def from_dict(cls: type, data: dict[str, Any], where: str) -> Any:
    """An instance of dataclass ``cls`` from ``data`` (nested dataclasses recursively, JSON lists back
    to tuples); keys ``cls`` lacks are reported on stderr, named by their path under ``where``."""
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = [k for k in data if k not in fields]
    if unknown:
        print(f"warning: {where}: ignoring unknown key(s) {', '.join(unknown)} (written by another version?)",
              file=sys.stderr)
    kwargs = {}
    for name, value in data.items():
        if name not in fields:
            continue
        default = _default_of(fields[name])
        if dataclasses.is_dataclass(default) and isinstance(value, dict):
            value = from_dict(type(default), value, f"{where}.{name}")
        elif isinstance(value, list) and "tuple" in str(fields[name].type):
            value = tuple(value)
        kwargs[name] = value
    return cls(**kwargs)


def _default_of(f: dataclasses.Field) -> Any:
    if f.default is not dataclasses.MISSING:
        return f.default
    if f.default_factory is not dataclasses.MISSING:
        return f.default_factory()
    return None


class RunDir:
    """``config.json``, ``checkpoints/``, ``metrics.jsonl``, ``videos/``, ``eval/`` and ``export/`` of one run."""

    def __init__(self, path: str):
        self.path = path

    @staticmethod
    def default_path(agent: str, env_id: str, seed: int) -> str:
        return os.path.join("runs", f"{env_id.replace('/', '-')}-{agent}-s{seed}-{time.strftime('%Y%m%d-%H%M%S')}")

    @property
    def config_path(self) -> str:
        return os.path.join(self.path, "config.json")

    def write_config(self, agent: str, run: RunArgs, config: Any) -> dict[str, Any]:
        """Write ``config.json`` (the run flags without ``resume``) and return what was written."""
        os.makedirs(self.path, exist_ok=True)
        saved = {"agent": agent, **dataclasses.asdict(dataclasses.replace(run, resume=None, run_dir=self.path)),
                 agent: dataclasses.asdict(config)}
        tmp = f"{self.config_path}.tmp"
        with open(tmp, "w") as f:
            json.dump(saved, f, indent=2)
        os.replace(tmp, self.config_path)
        return saved

    def read_saved(self) -> dict[str, Any]:
        """``config.json`` as written; a one-line :class:`UserError` when there is none or it is broken."""
        if not os.path.isfile(self.config_path):
            raise UserError(f"{self.path} is not a run directory (no config.json there).")
        try:
            with open(self.config_path) as f:
                saved = json.load(f)
        except json.JSONDecodeError as exc:
            raise UserError(f"{self.config_path} is not valid JSON ({exc}); restore it or start a new run.") from None
        if not isinstance(saved, dict) or "agent" not in saved:
            raise UserError(f"{self.config_path} names no agent: not written by sensorimotor.")
        return saved

    def read(self) -> tuple[AgentSpec, RunArgs, Any]:
        """The run's agent, run flags and agent config."""
        saved = self.read_saved()
        spec = agent_spec(str(saved["agent"]))
        flags = {k: v for k, v in saved.items() if k not in ("agent", spec.name)}
        run = from_dict(RunArgs, flags, "config.json")
        config = from_dict(spec.config_type, saved.get(spec.name, {}), f"config.json {spec.name}")
        return spec, dataclasses.replace(run, run_dir=self.path), config

    def checkpoint(self, which: str | None = None) -> str:
        """The path of checkpoint ``which`` (``step_<n>`` or ``<n>``), default the last complete one."""
        path = chosen_checkpoint(self.path, which)
        if path is None:
            raise UserError(f"{self.path} has no complete checkpoint yet.")
        return path
