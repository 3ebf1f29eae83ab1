"""Domain randomization for PyBullet scenes: what varies, within which ranges, all from one seeded RNG.

Visual properties (colours, textures) are not part of a Bullet state, so they survive ``restoreState``
and are drawn once per object set; the light and the camera are drawn per episode (they cost nothing);
friction and mass are set with ``changeDynamics`` once per object set.
"""

from __future__ import annotations

import glob
import os
from dataclasses import dataclass

import numpy as np

from sensorimotor.errors import check
from sensorimotor.sim.pybullet.client import data_path, import_pybullet


@dataclass(frozen=True)
class RandomizationConfig:
    """Ranges of what changes between object sets and episodes. Zero or ``False`` turns a part off.

    Attributes:
        object_colors: give each object a random colour (else the URDF's own).
        textures: put a random ``pybullet_data`` texture on the tray and the table.
        light_jitter: the light direction moves by up to this much (unit vector components) each
            episode; 0 keeps TinyRenderer's default light.
        camera_angle_deg: camera yaw and pitch move by up to this many degrees each episode.
        camera_fov_deg: the field of view moves by up to this many degrees each episode.
        friction: lateral friction of the objects drawn from this range (the URDFs use 1.0).
        mass: object mass (kg) drawn from this range (the URDFs use 0.1).
    """

    object_colors: bool = False
    textures: bool = False
    light_jitter: float = 0.0
    camera_angle_deg: float = 0.0
    camera_fov_deg: float = 0.0
    friction: tuple[float, float] = (1.0, 1.0)
    mass: tuple[float, float] = (0.1, 0.1)

    def validate(self) -> None:
        check(0.0 <= self.light_jitter <= 1.0, f"light_jitter must be in [0, 1], got {self.light_jitter}.")
        check(0.0 <= self.camera_angle_deg <= 15.0,
              f"camera_angle_deg must be in [0, 15] degrees, got {self.camera_angle_deg}.")
        check(0.0 <= self.camera_fov_deg <= 10.0, f"camera_fov_deg must be in [0, 10] degrees, got {self.camera_fov_deg}.")
        check(0.1 <= self.friction[0] <= self.friction[1] <= 2.0,
              f"friction must be a range within [0.1, 2.0], got {self.friction}.")
        check(0.01 <= self.mass[0] <= self.mass[1] <= 1.0, f"mass must be a range within [0.01, 1.0] kg, got {self.mass}.")


# Domain randomization as QT-Opt-style sim-to-real work uses it: everything on, moderate ranges.
FULL_RANDOMIZATION = RandomizationConfig(object_colors=True, textures=True, light_jitter=0.5, camera_angle_deg=3.0,
                                         camera_fov_deg=2.0, friction=(0.6, 1.2), mass=(0.05, 0.3))
DEFAULT_LIGHT = (0.4, -0.4, 1.0)


def texture_files() -> list[str]:
    """The small images that ship with ``pybullet_data`` (checkers, grids, the tray and table)."""
    root = data_path()
    names = ("checker_blue.png", "checker_grid.jpg", "tex256.png", "uvmap.png", "tray/tray.jpg", "table/table.png",
             "cube.png", "duckCM.png")
    return [os.path.join(root, n) for n in names if os.path.exists(os.path.join(root, n))] or \
        sorted(glob.glob(os.path.join(root, "*.png")))


def random_color(rng: np.random.Generator) -> list[float]:
    """An opaque RGBA colour, saturated enough to be seen at 64x64."""
    hue = rng.uniform(0, 6)
    x = 1 - abs(hue % 2 - 1)
    rgb = [(1, x, 0), (x, 1, 0), (0, 1, x), (0, x, 1), (x, 0, 1), (1, 0, x)][int(hue) % 6]
    value = rng.uniform(0.5, 1.0)
    return [value * c for c in rgb] + [1.0]


def light_direction(config: RandomizationConfig, rng: np.random.Generator) -> tuple[float, float, float] | None:
    """This episode's light direction, or ``None`` for the renderer's default."""
    if config.light_jitter == 0:
        return None
    return tuple(float(v) for v in np.asarray(DEFAULT_LIGHT) + rng.uniform(-1, 1, size=3) * config.light_jitter)


def apply_to_bodies(client: int, config: RandomizationConfig, rng: np.random.Generator, objects: list[int],
                    surfaces: list[int], colors: list[list[float]] | None = None) -> None:
    """Colours (or the given ``colors``), textures, friction and mass for one object set."""
    p = import_pybullet()
    for k, body in enumerate(objects):
        if colors is not None:
            p.changeVisualShape(body, -1, rgbaColor=colors[k], physicsClientId=client)
        elif config.object_colors:
            p.changeVisualShape(body, -1, rgbaColor=random_color(rng), physicsClientId=client)
        if config.friction != (1.0, 1.0) or config.mass != (0.1, 0.1):
            p.changeDynamics(body, -1, lateralFriction=float(rng.uniform(*config.friction)),
                             mass=float(rng.uniform(*config.mass)), physicsClientId=client)
    if config.textures:
        files = texture_files()
        for body in surfaces:
            texture = p.loadTexture(files[int(rng.integers(len(files)))], physicsClientId=client)
            p.changeVisualShape(body, -1, textureUniqueId=texture, physicsClientId=client)
