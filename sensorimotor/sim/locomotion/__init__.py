"""Registers the five locomotion ids with the ``sync`` (gymnasium) and ``mujoco`` (batched) backends."""

from __future__ import annotations

import functools

import gymnasium as gym

from sensorimotor.envs.registry import register
from sensorimotor.envs.vector.mujoco import MujocoVecEnv
from sensorimotor.sim.locomotion.tasks import Ant, HalfCheetah, Hopper, Humanoid, Walker2d

TASKS = {"HalfCheetah-v5": HalfCheetah, "Hopper-v5": Hopper, "Walker2d-v5": Walker2d, "Ant-v5": Ant,
         "Humanoid-v5": Humanoid}
MAX_EPISODE_STEPS = 1000


def _make_batched(task_cls, num_envs, device, **kwargs):
    return MujocoVecEnv(task_cls, num_envs, device, max_episode_steps=MAX_EPISODE_STEPS, **kwargs)


def _gym_make(gym_id: str, render_mode: str | None = None, **kwargs) -> gym.Env:
    return gym.make(gym_id, render_mode=render_mode, **kwargs)


for _id, _task in TASKS.items():
    register(
        _id,
        functools.partial(_gym_make, _id),
        tags=("mujoco", "locomotion", "gymnasium"),
        max_episode_steps=MAX_EPISODE_STEPS,
        backends={"mujoco": functools.partial(_make_batched, _task)},
        default_backend="mujoco",
    )
