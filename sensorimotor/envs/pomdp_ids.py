"""Registers velocity-masked classic-control tasks (tag ``pomdp``): the agent sees positions and
angles only, so it must infer velocities from its memory. Index lists follow Gymnasium's layouts."""

from __future__ import annotations

import functools

import gymnasium as gym

from sensorimotor.envs.registry import register
from sensorimotor.envs.wrappers.mask import MaskObservation

# id -> (Gymnasium id, kept observation entries, episode limit, extra tags)
MASKED = {
    "CartPoleNoVel-v1": ("CartPole-v1", (0, 2), 500, ("classic",)),  # x, theta
    "PendulumNoVel-v1": ("Pendulum-v1", (0, 1), 200, ("classic",)),  # cos, sin of the angle
    "MountainCarContinuousNoVel-v0": ("MountainCarContinuous-v0", (0,), 999, ("classic",)),  # position
    # x, y, angle, both leg contacts (needs the `box2d` extra)
    "LunarLanderNoVel-v3": ("LunarLander-v3", (0, 1, 4, 6, 7), 1000, ("box2d",)),
    "LunarLanderContinuousNoVel-v3": ("LunarLanderContinuous-v3", (0, 1, 4, 6, 7), 1000, ("box2d",)),
}


def _make_masked(gym_id: str, keep: tuple[int, ...], render_mode: str | None = None, **kwargs) -> gym.Env:
    try:
        env = gym.make(gym_id, render_mode=render_mode, **kwargs)
    except gym.error.DependencyNotInstalled as exc:
        from sensorimotor.errors import UserError

        raise UserError(f"{gym_id} needs Box2D: pip install -e '.[box2d]' ({exc}).") from None
    return MaskObservation(env, keep)


for _id, (_gym_id, _keep, _steps, _tags) in MASKED.items():
    register(_id, functools.partial(_make_masked, _gym_id, _keep), tags=("pomdp", *_tags),
             max_episode_steps=_steps)
