"""Driving PyBullet's racecar on procedurally generated roads from one front camera (PilotNet's
setting). Registered ids (tags ``pybullet``, ``driving``, ``pixels``; default backend ``pybullet``):

| id                         | tracks                      | camera    |
|----------------------------|-----------------------------|-----------|
| `RacecarDrive-v0`          | random, new every 4 episodes | 200 x 66 |
| `RacecarDrive-Test-v0`     | 20 held out (seed s: track s % 20; unseeded: the next) | 200 x 66 |
| `RacecarDrive64-v0`        | random                      | 64 x 64   |
| `RacecarDrive64-Test-v0`   | 20 held out                 | 64 x 64   |

``make("RacecarDrive-v0", speed=2.0, interventions=True)`` overrides any field of
:class:`~sensorimotor.sim.pybullet.driving.config.DriveTaskConfig`.
"""

from __future__ import annotations

import dataclasses
import functools

from sensorimotor.errors import UserError

TAGS = ("pybullet", "driving", "pixels")
IDS = ("RacecarDrive-v0", "RacecarDrive-Test-v0", "RacecarDrive64-v0", "RacecarDrive64-Test-v0")


def _variants() -> dict:
    from sensorimotor.sim.pybullet.driving import config as c

    return dict(zip(IDS, (c.DRIVE, c.DRIVE_TEST, c.DRIVE_64, c.DRIVE_64_TEST)))


def variant_config(env_id: str):
    """The registered :class:`DriveTaskConfig` of ``env_id``."""
    return _variants()[env_id]


def task_config(base, config=None, **overrides):
    """``base`` with ``overrides`` (field names of :class:`DriveTaskConfig`), or ``config`` whole."""
    if config is not None:
        return config
    names = {f.name for f in dataclasses.fields(base)}
    unknown = sorted(set(overrides) - names)
    if unknown:
        raise UserError(f"unknown driving option(s) {', '.join(unknown)}; known: {', '.join(sorted(names))}.")
    return dataclasses.replace(base, **overrides)


def _make(env_id: str, render_mode: str | None = None, **kwargs):
    from sensorimotor.sim.pybullet.driving.task import DriveEnv

    return DriveEnv(task_config(_variants()[env_id], **kwargs), render_mode=render_mode)


def _make_pybullet(env_id: str, num_envs: int, device, **kwargs):
    from sensorimotor.envs.vector.pybullet import PyBulletVecEnv

    return PyBulletVecEnv(env_id, num_envs, device, **kwargs)


def register_driving_ids() -> None:
    from sensorimotor.envs.registry import register

    for env_id in IDS:
        register(env_id, functools.partial(_make, env_id), tags=TAGS,
                 backends={"pybullet": functools.partial(_make_pybullet, env_id)}, default_backend="pybullet")
