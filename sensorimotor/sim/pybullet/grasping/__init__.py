"""Camera grasping with a Kuka iiwa over a tray (QT-Opt's setup). Registered ids (tags ``pybullet``,
``grasping``, ``pixels``; default backend ``pybullet``):

| id                         | objects            | action layout              | steps |
|----------------------------|--------------------|----------------------------|-------|
| `KukaGrasp-v0`             | 5 of 900 train     | qtopt (dx dy dz dyaw grip end) | 15 |
| `KukaGrasp-Test-v0`        | 5 of 100 held out  | qtopt                      | 15    |
| `KukaGraspAuto-v0`         | 5 of 900 train     | auto grasp, always descend (dx dy dyaw) | 8 |
| `KukaGraspAuto-Test-v0`    | 5 of 100 held out  | auto grasp, always descend | 8     |
| `KukaGraspTargeted-v0`     | 5 coloured, red counts | qtopt                  | 15    |
| `KukaGraspRandomized-v0`   | 5 of 900, domain randomization | qtopt          | 15    |
| `KukaGraspCube-v0`         | one 5 cm cube      | auto grasp, always descend | 8     |

``make("KukaGrasp-v0", num_objects=3, reset_mode="fresh", image_size=84)`` overrides any field of
:class:`GraspTaskConfig` (``image_size`` sets the camera's width and height).
"""

from __future__ import annotations

import dataclasses
import functools

from sensorimotor.errors import UserError

TAGS = ("pybullet", "grasping", "pixels")


def _variants() -> dict:
    from dataclasses import replace

    from sensorimotor.sim.pybullet.grasping import config as c

    return {
        "KukaGrasp-v0": c.GRASP,
        "KukaGrasp-Test-v0": replace(c.GRASP, objects="test"),
        "KukaGraspAuto-v0": c.GRASP_AUTO,
        "KukaGraspAuto-Test-v0": replace(c.GRASP_AUTO, objects="test"),
        "KukaGraspTargeted-v0": c.GRASP_TARGETED,
        "KukaGraspRandomized-v0": c.GRASP_RANDOMIZED,
        "KukaGraspCube-v0": c.GRASP_CUBE,
    }


def task_layout(env_id: str) -> str | None:
    """The action layout (``qtopt`` or ``auto``) of a grasping id, None for any other env."""
    config = variant_config(env_id)
    return config.layout if config is not None else None


def variant_config(env_id: str):
    """The ``GraspTaskConfig`` a grasping id makes (without overrides), None for any other env."""
    variants = _variants() if env_id.startswith("KukaGrasp") else {}
    return variants.get(env_id)


def task_config(base, image_size: int | None = None, config=None, **overrides):
    """``base`` with ``overrides`` (field names of :class:`GraspTaskConfig`), or ``config`` whole."""
    if config is not None:
        return config
    names = {f.name for f in dataclasses.fields(base)}
    unknown = sorted(set(overrides) - names)
    if unknown:
        raise UserError(f"unknown grasping option(s) {', '.join(unknown)}; known: {', '.join(sorted(names))}, "
                        "image_size.")
    if image_size is not None:
        overrides["camera"] = dataclasses.replace(overrides.get("camera", base.camera), width=image_size,
                                                  height=image_size)
    return dataclasses.replace(base, **overrides)


def _make(env_id: str, render_mode: str | None = None, **kwargs):
    from sensorimotor.sim.pybullet.grasping.task import GraspEnv

    return GraspEnv(task_config(_variants()[env_id], **kwargs), render_mode=render_mode)


def _make_pybullet(env_id: str, num_envs: int, device, **kwargs):
    from sensorimotor.envs.vector.pybullet import PyBulletVecEnv

    return PyBulletVecEnv(env_id, num_envs, device, **kwargs)


def register_grasping_ids() -> None:
    from sensorimotor.envs.registry import register

    for env_id in ("KukaGrasp-v0", "KukaGrasp-Test-v0", "KukaGraspAuto-v0", "KukaGraspAuto-Test-v0",
                   "KukaGraspTargeted-v0", "KukaGraspRandomized-v0", "KukaGraspCube-v0"):
        register(env_id, functools.partial(_make, env_id), tags=TAGS,
                 backends={"pybullet": functools.partial(_make_pybullet, env_id)}, default_backend="pybullet")
