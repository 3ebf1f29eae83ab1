"""Which objects go into the tray and where they are dropped.

Splits follow ``KukaDiverseObjectEnv``: the 1,000 procedural objects of ``pybullet_data/random_urdfs``,
folders not ending in 0 for training (900) and those ending in 0 for testing (100), so ``-Test-`` ids
evaluate on shapes never seen in training. ``cube`` is ``cube_small.urdf`` (5 cm), the easy variant.
"""

from __future__ import annotations

import functools
import glob
import math
import os

import numpy as np

from sensorimotor.sim.pybullet.client import data_path

SPLITS = ("train", "test", "cube")
# Where objects are dropped (m): over the part of the tray the gripper reaches.
DROP_X = (0.47, 0.65)  # beyond ~0.66 the open outer finger meets the tray wall
DROP_Y = (-0.12, 0.22)
DROP_Z = 0.0  # the lowest object starts 0.18 m above the tray floor; each next one 4 cm higher
# Targeted variant: the designated class is "red"; the others are drawn from the rest of the palette.
TARGET_COLOR = (0.9, 0.1, 0.1, 1.0)
OTHER_COLORS = ((0.1, 0.3, 0.9, 1.0), (0.1, 0.8, 0.2, 1.0), (0.95, 0.85, 0.1, 1.0), (0.9, 0.9, 0.9, 1.0),
                (0.6, 0.2, 0.8, 1.0))


@functools.cache
def object_files(split: str) -> tuple[str, ...]:
    """URDF paths of a split, sorted so that a seed picks the same objects on every machine."""
    root = data_path()
    if split == "cube":
        return (os.path.join(root, "cube_small.urdf"),)
    pattern = "random_urdfs/*0/*.urdf" if split == "test" else "random_urdfs/*[1-9]/*.urdf"
    return tuple(sorted(glob.glob(os.path.join(root, pattern))))


def choose_objects(split: str, count: int, rng: np.random.Generator) -> list[str]:
    """``count`` object files of ``split`` (with replacement, as the original env)."""
    files = object_files(split)
    return [files[int(i)] for i in rng.integers(len(files), size=count)]


def drop_poses(count: int, rng: np.random.Generator) -> list[tuple[tuple, tuple]]:
    """Random ``(position, quaternion)`` drop poses, stacked in height so objects do not start inside
    each other."""
    poses = []
    for k in range(count):
        x, y = rng.uniform(*DROP_X), rng.uniform(*DROP_Y)
        yaw = rng.uniform(-math.pi, math.pi)
        quaternion = (0.0, 0.0, math.sin(yaw / 2), math.cos(yaw / 2))
        poses.append(((float(x), float(y), DROP_Z + 0.04 * k), quaternion))
    return poses


def target_colors(count: int, rng: np.random.Generator) -> tuple[list[list[float]], np.ndarray]:
    """Colours for the targeted variant: object 0 is always the target colour, each other one is
    the target colour with probability 1/4. Returns ``(colors [count] RGBA, is_target bool [count])``."""
    is_target = rng.uniform(size=count) < 0.25
    is_target[0] = True
    colors = [list(TARGET_COLOR) if t else list(OTHER_COLORS[int(rng.integers(len(OTHER_COLORS)))])
              for t in is_target]
    return colors, is_target
