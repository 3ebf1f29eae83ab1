"""One registry for every task: Gymnasium ids and our own, each with tags and vector backends.

``make_vec(id, num_envs, backend)`` builds a VecEnv. Every id works with the ``sync`` backend (its
single gymnasium env, N copies in-process); ids that have a native batched implementation add it
under its backend name (``mujoco`` for the locomotion tasks).
"""

from __future__ import annotations

import difflib
import functools
import importlib
from dataclasses import dataclass, field
from typing import Any, Callable

import gymnasium as gym
import torch

from sensorimotor.errors import UserError, check

# Modules that register our tasks when imported. Loaded on first lookup, so that `envs` need not import
# `sim` (the dependency points from sim to envs). Other packages add theirs without editing this list:
# an entry point in the `sensorimotor.envs` group naming a module that calls `register` (see docs/envs.md).
_PROVIDERS = ("sensorimotor.envs.gymnasium_ids", "sensorimotor.envs.pomdp_ids", "sensorimotor.envs.vizdoom_ids",
              "sensorimotor.envs.atari_ids", "sensorimotor.envs.minatar_ids",
              "sensorimotor.sim.locomotion",
              "sensorimotor.sim.memory", "sensorimotor.sim.pybullet")


@dataclass(frozen=True)
class EnvSpec:
    """How to build one task.

    Attributes:
        id: the name users type, e.g. ``"HalfCheetah-v5"``.
        make_single: builds one gymnasium env (``render_mode`` keyword accepted).
        tags: free-form labels (``"mujoco"``, ``"locomotion"``, ``"classic"``) for ``list_envs(tag=)``.
        max_episode_steps: time limit that truncates an episode.
        backends: native vector builders, ``name -> f(num_envs, device, **kwargs) -> VecEnv``.
        default_backend: backend used when the caller names none.
    """

    id: str
    make_single: Callable[..., gym.Env]
    tags: tuple[str, ...] = ()
    max_episode_steps: int | None = None
    backends: dict[str, Callable[..., Any]] = field(default_factory=dict)
    default_backend: str = "sync"


_REGISTRY: dict[str, EnvSpec] = {}
_loaded = False


def register(
    id: str,
    make_single: Callable[..., gym.Env],
    tags: tuple[str, ...] = (),
    max_episode_steps: int | None = None,
    backends: dict[str, Callable[..., Any]] | None = None,
    default_backend: str = "sync",
) -> EnvSpec:
    """Add a task. Re-registering an id replaces it (useful in notebooks)."""
    spec = EnvSpec(id, make_single, tuple(tags), max_episode_steps, dict(backends or {}), default_backend)
    _REGISTRY[id] = spec
    return spec


def _load_providers() -> None:
    global _loaded
    if not _loaded:
        _loaded = True
        for module in _PROVIDERS:
            importlib.import_module(module)
        from importlib.metadata import entry_points

        for entry in entry_points(group="sensorimotor.envs"):
            entry.load()


def spec(id: str) -> EnvSpec:
    """The spec of ``id``; an unknown id raises :class:`UserError` naming close matches. An id that only
    Gymnasium knows (a user's ``gymnasium.register``) is taken as it is, on the ``sync`` and ``subproc``
    backends, with a one-line note that it has no native backend."""
    _load_providers()
    if id not in _REGISTRY and id in gym.registry:
        import sys

        print(f"note: {id} is registered with gymnasium, not with sensorimotor: it runs on the sync and subproc "
              "backends (no native batched backend).", file=sys.stderr)
        register(id, functools.partial(_gymnasium_make, id), tags=("gymnasium", "user"))
    if id not in _REGISTRY:
        close = difflib.get_close_matches(id, list(_REGISTRY), n=3, cutoff=0.5)
        hint = f" Did you mean: {', '.join(close)}?" if close else " See `list_envs()` for the ids."
        raise UserError(f"unknown env id {id!r}.{hint}")
    return _REGISTRY[id]


def _gymnasium_make(id: str, render_mode: str | None = None, **kwargs: Any) -> gym.Env:
    return gym.make(id, render_mode=render_mode, **kwargs)


def list_envs(tag: str | None = None) -> list[str]:
    """Registered ids, sorted; only those carrying ``tag`` when given."""
    _load_providers()
    return sorted(i for i, s in _REGISTRY.items() if tag is None or tag in s.tags)


def backends_of(id: str) -> list[str]:
    """Backends that can run ``id``: ``sync`` and ``subproc`` always, plus its native ones."""
    return ["sync", "subproc", *spec(id).backends]


def make(id: str, render_mode: str | None = None, **kwargs: Any) -> gym.Env:
    """One gymnasium env for ``id``, with its time limit; ``kwargs`` go to the task (e.g. ``delay``)."""
    s = spec(id)
    env = _building(id, kwargs, lambda: s.make_single(render_mode=render_mode, **kwargs))
    if s.max_episode_steps is not None and env.spec is None:
        env = gym.wrappers.TimeLimit(env, s.max_episode_steps)
    return env


def make_vec(
    id: str,
    num_envs: int,
    backend: str | None = None,
    device: str | torch.device = "cpu",
    **kwargs: Any,
):
    """A VecEnv of ``num_envs`` copies of ``id`` on ``backend`` (the task's default when None)."""
    s = spec(id)
    check(isinstance(num_envs, int) and num_envs > 0, f"num_envs must be a positive integer, got {num_envs!r}.")
    backend = backend or s.default_backend
    device = torch.device(device)
    if backend == "sync":
        from sensorimotor.envs.vector.sync import SyncVecEnv

        return SyncVecEnv([lambda: make(id, **kwargs) for _ in range(num_envs)], device=device)
    if backend == "subproc":
        from sensorimotor.envs.vector.subproc import SubprocVecEnv

        return SubprocVecEnv(id, num_envs, device, **kwargs)
    if backend not in s.backends:
        raise UserError(f"env {id!r} has no backend {backend!r}; available: {', '.join(backends_of(id))}.")
    return _building(id, kwargs, lambda: s.backends[backend](num_envs=num_envs, device=device, **kwargs))


def _building(id: str, options: dict[str, Any], build: Callable[[], Any]) -> Any:
    """``build()``; a task option its constructor does not take becomes one line, not a TypeError."""
    try:
        return build()
    except TypeError as error:
        if options and "keyword argument" in str(error):
            raise UserError(f"{id} does not take the option(s) given ({', '.join(sorted(options))}): {error}") from None
        raise
