"""A moving test pattern with fault switches (freeze, unplug, slow down), for work and tests without a camera."""

from __future__ import annotations

import numpy as np

from sensorimotor.hardware.cameras.base import PacedCamera


class MockCamera(PacedCamera):
    """A moving gradient at ``fps``. Fault switches for tests: ``freeze()`` (repeat one image),
    ``unplug()`` (the source ends), ``slow_down(fps)`` (frame rate collapse)."""

    def __init__(self, height: int = 84, width: int = 84, fps: float = 30.0, name: str = "mock", frozen_after: int = 30):
        super().__init__(name, frozen_after)
        self.height, self.width, self.rate = height, width, fps
        self._n = 0
        self._frozen = False
        self._gone = False
        self._next = 0.0

    def freeze(self) -> None:
        self._frozen = True

    def unplug(self) -> None:
        self._gone = True

    def slow_down(self, fps: float) -> None:
        self.rate = fps

    def _grab(self) -> np.ndarray | None:
        self._wait_for_next_frame()
        if self._gone:
            return None
        if not self._frozen:
            self._n += 1
        y = np.arange(self.height, dtype=np.uint16)[:, None]
        x = np.arange(self.width, dtype=np.uint16)[None, :]
        base = ((x + y + 3 * self._n) % 256).astype(np.uint8)
        return np.stack([base, base[::-1], np.full_like(base, self._n % 256)], axis=-1)


def mock_from_uri(argument: str) -> MockCamera:
    """``mock`` or ``mock:HxW@FPS``."""
    if not argument:
        return MockCamera()
    size, _, fps = argument.partition("@")
    h, _, w = size.partition("x")
    return MockCamera(int(h), int(w), float(fps or 30))
