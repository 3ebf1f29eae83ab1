"""Registers the five locomotion ids and ``InvertedPendulum-v5`` with the ``sync`` (gymnasium),
``mujoco`` (batched CPU) and ``mjx`` (MuJoCo XLA, GPU or JAX's CPU) backends, and the locomotion
tasks' velocity-masked variants (``HalfCheetahNoVel-v5``..., tag ``pomdp``): joint positions only."""

from __future__ import annotations

import functools

import gymnasium as gym

from sensorimotor.envs.registry import register
from sensorimotor.envs.wrappers.mask import MaskObservation, MaskVecObservation
from sensorimotor.envs.vector.mujoco import MujocoVecEnv
from sensorimotor.sim.locomotion.tasks import Ant, HalfCheetah, Hopper, Humanoid, InvertedPendulum, Walker2d

TASKS = {"HalfCheetah-v5": HalfCheetah, "Hopper-v5": Hopper, "Walker2d-v5": Walker2d, "Ant-v5": Ant,
         "Humanoid-v5": Humanoid}
MAX_EPISODE_STEPS = 1000


def _make_batched(task_cls, num_envs, device, **kwargs):
    return MujocoVecEnv(task_cls, num_envs, device, max_episode_steps=MAX_EPISODE_STEPS, **kwargs)


def _make_mjx(task_cls, num_envs, device, **kwargs):
    from sensorimotor.envs.vector.mjx import MjxVecEnv  # imports jax: only when asked for

    return MjxVecEnv(task_cls, num_envs, device, max_episode_steps=MAX_EPISODE_STEPS, **kwargs)


def _backends(task_cls) -> dict:
    return {"mujoco": functools.partial(_make_batched, task_cls), "mjx": functools.partial(_make_mjx, task_cls)}


def _gym_make(gym_id: str, render_mode: str | None = None, **kwargs) -> gym.Env:
    return gym.make(gym_id, render_mode=render_mode, **kwargs)


for _id, _task in TASKS.items():
    register(
        _id,
        functools.partial(_gym_make, _id),
        tags=("mujoco", "locomotion", "gymnasium"),
        max_episode_steps=MAX_EPISODE_STEPS,
        backends=_backends(_task),
        default_backend="mujoco",
    )
register("InvertedPendulum-v5", functools.partial(_gym_make, "InvertedPendulum-v5"), tags=("mujoco", "gymnasium"),
         max_episode_steps=MAX_EPISODE_STEPS, backends=_backends(InvertedPendulum), default_backend="mujoco")

# Observation entries that are positions (qpos without the root's x, or x and y): the rest are
# velocities (and, for Ant and Humanoid, contact forces and inertias that give velocities away).
POSITION_ENTRIES = {"HalfCheetah-v5": 8, "Hopper-v5": 5, "Walker2d-v5": 8, "Ant-v5": 13, "Humanoid-v5": 22}


def _masked_single(gym_id: str, keep: range, render_mode: str | None = None, **kwargs) -> gym.Env:
    return MaskObservation(_gym_make(gym_id, render_mode=render_mode, **kwargs), keep)


def _masked_batched(task_cls, keep: range, num_envs, device, **kwargs):
    return MaskVecObservation(_make_batched(task_cls, num_envs, device, **kwargs), keep)


def _masked_mjx(task_cls, keep: range, num_envs, device, **kwargs):
    return MaskVecObservation(_make_mjx(task_cls, num_envs, device, **kwargs), keep)


for _id, _task in TASKS.items():
    _keep = range(POSITION_ENTRIES[_id])
    register(
        _id.replace("-v5", "NoVel-v5"),
        functools.partial(_masked_single, _id, _keep),
        tags=("mujoco", "locomotion", "pomdp"),
        max_episode_steps=MAX_EPISODE_STEPS,
        backends={"mujoco": functools.partial(_masked_batched, _task, _keep),
                  "mjx": functools.partial(_masked_mjx, _task, _keep)},
        default_backend="mujoco",
    )
