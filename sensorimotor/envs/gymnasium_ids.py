"""Registers the Gymnasium tasks that run on a bare install: classic control and MuJoCo v5.

The five locomotion tasks and ``InvertedPendulum-v5`` are registered by ``sensorimotor.sim.locomotion``
(with native ``mujoco`` and ``mjx`` backends).
"""

from __future__ import annotations

import functools

import gymnasium as gym

from sensorimotor.envs.registry import register

CLASSIC = {"CartPole-v1": 500, "Pendulum-v1": 200, "Acrobot-v1": 500, "MountainCarContinuous-v0": 999}
MUJOCO = {"InvertedDoublePendulum-v5": 1000, "Reacher-v5": 50,
          "Swimmer-v5": 1000}


def _gym_make(gym_id: str, render_mode: str | None = None, **kwargs) -> gym.Env:
    return gym.make(gym_id, render_mode=render_mode, **kwargs)


for _id, _steps in CLASSIC.items():
    register(_id, functools.partial(_gym_make, _id), tags=("classic", "gymnasium"), max_episode_steps=_steps)
for _id, _steps in MUJOCO.items():
    register(_id, functools.partial(_gym_make, _id), tags=("mujoco", "gymnasium"), max_episode_steps=_steps)
