"""Frames rendered by a callable, e.g. a MuJoCo renderer over one of our scenes."""

from __future__ import annotations

import numpy as np

from sensorimotor.hardware.cameras.base import PacedCamera


class SimCamera(PacedCamera):
    """Frames from ``render()`` (e.g. a MuJoCo renderer over one of our scenes) at ``fps``."""

    def __init__(self, render, fps: float = 30.0, name: str = "sim"):
        super().__init__(name)
        self.render, self.rate = render, fps
        self._next = 0.0

    def _grab(self) -> np.ndarray | None:
        self._wait_for_next_frame()
        return np.ascontiguousarray(self.render(), dtype=np.uint8)
