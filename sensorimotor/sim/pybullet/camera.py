"""A fixed camera rendered with TinyRenderer: matrices computed once, RGB and optional depth.

Costs on 2 cores (DESIGN.md 6): 64x64 4.5-5 ms, 84x84 7 ms, 128x128 13 ms. ``shadow=0`` is passed on
every call (shadows double the cost and are sticky per client) and the segmentation mask is skipped
unless asked for.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

from sensorimotor.errors import check
from sensorimotor.sim.pybullet.client import import_pybullet


@dataclass(frozen=True)
class CameraConfig:
    """Where the camera looks and how it sees (a yaw-pitch orbit around a target point).

    Attributes:
        target: the point looked at (m, world frame).
        distance: from the target to the eye (m).
        yaw: orbit angle around the vertical axis (degrees).
        pitch: elevation (degrees; negative looks down).
        roll: around the viewing axis (degrees).
        fov: vertical field of view (degrees).
        width, height: image size (pixels).
        near, far: clipping planes (m).
        depth: also return a depth image (metres, float32).
    """

    target: tuple[float, float, float] = (0.23, 0.2, 0.54)
    distance: float = 1.0
    yaw: float = 245.0
    pitch: float = -56.0
    roll: float = 0.0
    fov: float = 20.0
    width: int = 64
    height: int = 64
    near: float = 0.01
    far: float = 10.0
    depth: bool = False

    def validate(self) -> None:
        check(8 <= self.width <= 1024 and 8 <= self.height <= 1024,
              f"camera image size must be 8..1024 pixels a side, got {self.width}x{self.height}.")
        check(1.0 <= self.fov <= 120.0, f"camera fov must be 1..120 degrees, got {self.fov}.")
        check(0.0 < self.distance <= 10.0, f"camera distance must be in (0, 10] m, got {self.distance}.")
        check(-90.0 <= self.pitch <= 90.0, f"camera pitch must be in [-90, 90] degrees, got {self.pitch}.")
        check(0.0 < self.near < self.far, f"camera clipping planes need 0 < near < far, got {self.near}, {self.far}.")
        check(all(math.isfinite(v) for v in (*self.target, self.yaw, self.roll)),
              "camera target, yaw and roll must be finite numbers.")

    def jittered(self, rng: np.random.Generator, angle_deg: float, fov_deg: float) -> "CameraConfig":
        """A copy with yaw and pitch moved by up to ``angle_deg`` and the FOV by up to ``fov_deg``."""
        if angle_deg == 0 and fov_deg == 0:
            return self
        dyaw, dpitch = rng.uniform(-angle_deg, angle_deg, size=2)
        return replace(self, yaw=self.yaw + dyaw, pitch=self.pitch + dpitch,
                       fov=self.fov + rng.uniform(-fov_deg, fov_deg))


class Camera:
    """Renders one client's world from ``config``; view and projection matrices are precomputed."""

    def __init__(self, config: CameraConfig, light_direction: tuple[float, float, float] | None = None):
        config.validate()
        p = import_pybullet()
        self.config = config
        self.view = p.computeViewMatrixFromYawPitchRoll(list(config.target), config.distance, config.yaw,
                                                        config.pitch, config.roll, 2)
        self.projection = p.computeProjectionMatrixFOV(config.fov, config.width / config.height, config.near,
                                                       config.far)
        self.light_direction = None if light_direction is None else list(light_direction)

    def render(self, client: int) -> tuple[np.ndarray, np.ndarray | None]:
        """``(rgb [H, W, 3] uint8, depth [H, W] float32 metres or None)``."""
        p = import_pybullet()
        c = self.config
        extra = {} if self.light_direction is None else {"lightDirection": self.light_direction}
        _, _, rgba, depth_buffer, _ = p.getCameraImage(
            c.width, c.height, self.view, self.projection, shadow=0, renderer=p.ER_TINY_RENDERER,
            flags=p.ER_NO_SEGMENTATION_MASK, physicsClientId=client, **extra)
        rgb = np.asarray(rgba, dtype=np.uint8).reshape(c.height, c.width, 4)[:, :, :3]
        if not c.depth:
            return rgb, None
        z = np.asarray(depth_buffer, dtype=np.float32).reshape(c.height, c.width)
        # OpenGL depth buffer in [0, 1] -> metres along the view axis.
        metres = c.far * c.near / (c.far - (c.far - c.near) * z)
        return rgb, metres.astype(np.float32)
