"""The agent registry, built like ``envs/registry.py``: the CLI's ``train <agent>`` subcommands, their
``--help``, the run pipeline (``sensorimotor.app``), the Python API and the agent-parametrised tests
all come from it. Adding an agent is a config file, an agent file and one :func:`register_agent` call
in ``agents/catalog.py`` (or in a third-party package, under the ``sensorimotor.agents`` entry point).
"""

from __future__ import annotations

import difflib
import importlib
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from typing import Any, Callable, Literal

from sensorimotor.errors import UserError

Runner = Literal["on_policy", "off_policy", "imitation"]


@dataclass(frozen=True)
class AgentSpec:
    """How the pipeline builds, trains and evaluates one agent.

    Attributes:
        name: the CLI's subcommand and the flag prefix (``--ppo.learning-rate``); saved in ``config.json``.
        config_type: the frozen config dataclass; it has ``total_steps``, ``num_envs``, ``device`` and
            ``validate()``.
        presets: named config values; ``--preset NAME`` picks one.
        default_preset: ``(env_id, backend) -> preset name`` when the user names none.
        build: ``(config, observation_space, action_space) -> agent`` (see ``agents/base.py``).
        make_env: ``(env_id, config, num_envs, backend, render_mode, training, env_options) -> VecEnv``
            with the wrappers the agent trains with; ``training=False`` builds the evaluation env;
            ``env_options`` (a dict) go to the task's constructor.
        runner: ``on_policy``, ``off_policy`` or ``imitation`` (behaviour cloning, DAgger).
        summary: one line for ``sensorimotor train --help``.
        smoke_env: an env id the ``smoke`` preset trains on in seconds (the agent-parametrised tests).
        run_defaults: defaults of the run flags that differ for this agent (``env``, ``checkpoint_every``).
        evaluation_protocol: ``(env_id, config) -> dict`` of evaluation settings stated in the summary;
            an ``epsilon`` there makes ``evaluate`` act epsilon-greedily around the agent's actions.
        threads: ``(obs_shape, config) -> int`` intra-op threads for training; default
            ``utils.threads.intra_op_threads`` (one for small networks, all for convolutions over frames).
        dict_observations: the agent reads ``Dict`` observations (pixels + state, e.g. the grasping
            tasks); the others take one array and are refused such tasks in one line.
    """

    name: str
    config_type: type
    presets: dict[str, Any]
    default_preset: Callable[[str, str | None], str]
    build: Callable[..., Any]
    make_env: Callable[..., Any]
    runner: Runner
    summary: str
    smoke_env: str
    run_defaults: dict[str, Any] = field(default_factory=dict)
    evaluation_protocol: Callable[[str, Any], dict] | None = None
    threads: Callable[[tuple[int, ...], Any], int] | None = None
    dict_observations: bool = False

    def check_observations(self, env_id: str, space) -> None:
        """Raise :class:`UserError` when the agent cannot read ``env_id``'s observations."""
        import gymnasium as gym

        if isinstance(space, gym.spaces.Dict) and not self.dict_observations:
            readers = [n for n in list_agents() if agent_spec(n).dict_observations]
            hint = f"use {' or '.join(readers)}" if readers else "no registered agent reads them yet"
            raise UserError(f"{self.name} takes one observation array, but {env_id} observes a Dict "
                            f"({', '.join(space.spaces)}): {hint}.")

    def preset(self, env_id: str, name: str | None, backend: str | None = None) -> tuple[str, Any]:
        """``(name, config)`` of the named preset, or of the env's default one when ``name`` is None."""
        name = name or self.default_preset(env_id, backend)
        if name not in self.presets:
            raise UserError(f"unknown preset {name!r} for {self.name}; choose one of {', '.join(self.presets)}.")
        return name, self.presets[name]


_REGISTRY: dict[str, AgentSpec] = {}
_loaded = False

# The module whose import registers the built-in agents, one entry each.
_BUILTIN = ("sensorimotor.agents.catalog",)


def register_agent(spec: AgentSpec) -> AgentSpec:
    """Add an agent; re-registering a name replaces it."""
    _REGISTRY[spec.name] = spec
    return spec


def _load() -> None:
    global _loaded
    if _loaded:
        return
    _loaded = True
    for module in _BUILTIN:
        importlib.import_module(module)
    for entry in entry_points(group="sensorimotor.agents"):  # third-party agents
        entry.load()


def agent_spec(name: str) -> AgentSpec:
    """The spec of agent ``name``; an unknown name is a :class:`UserError` listing the known ones."""
    _load()
    if name not in _REGISTRY:
        close = difflib.get_close_matches(name, list(_REGISTRY), n=1)
        hint = f" Did you mean {close[0]}?" if close else ""
        raise UserError(f"unknown agent {name!r}; agents: {', '.join(list_agents())}.{hint}")
    return _REGISTRY[name]


def list_agents() -> list[str]:
    """Registered agent names, in registration order."""
    _load()
    return list(_REGISTRY)
