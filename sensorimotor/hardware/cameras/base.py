"""The camera contract: capture in a background thread, ``read()`` the next frame, ``read_latest(max_age)``
the newest one or a :class:`CameraError` when it is too old, frozen or the camera is gone. Frames are
``[H, W, 3]`` uint8 RGB; timestamps are ``time.monotonic()`` seconds. One file per backend beside this
one; ``hardware/registry.py`` (``make_camera("opencv:0")``) is the only factory."""

from __future__ import annotations

import threading
import time
from abc import ABC, abstractmethod
from dataclasses import dataclass

import numpy as np


class CameraError(RuntimeError):
    """No usable frame: the camera is gone, frozen, or its newest frame is too old."""


@dataclass(frozen=True)
class Frame:
    image: np.ndarray
    timestamp: float
    index: int


class Camera(ABC):
    """Subclasses implement ``_open``, ``_grab`` (block until a frame, return it or None when the
    source ended) and ``_close``. The base class runs the capture thread and the health checks.

    Args:
        frozen_after: this many identical consecutive frames mark the camera frozen.
    """

    def __init__(self, name: str, frozen_after: int = 30):
        self.name = name
        self.frozen_after = frozen_after
        self._latest: Frame | None = None
        self._cond = threading.Condition()
        self._thread: threading.Thread | None = None
        self._running = False
        self._error: str | None = None
        self._repeats = 0
        self._times: list[float] = []

    @abstractmethod
    def _open(self) -> None: ...

    @abstractmethod
    def _grab(self) -> np.ndarray | None: ...

    @abstractmethod
    def _close(self) -> None: ...

    def start(self) -> "Camera":
        self._open()
        self._running = True
        self._thread = threading.Thread(target=self._capture, name=f"camera-{self.name}", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._running = False
        if self._thread is not None:
            self._thread.join(timeout=2.0)
        self._close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def _capture(self) -> None:
        index = 0
        while self._running:
            try:
                image = self._grab()
            except Exception as exc:  # noqa: BLE001 - any driver failure means the camera is gone
                image, self._error = None, f"camera {self.name}: capture failed: {exc}"
            if image is None:
                with self._cond:
                    self._error = self._error or f"camera {self.name}: the source ended or was unplugged"
                    self._cond.notify_all()
                return
            now = time.monotonic()
            with self._cond:
                previous = self._latest
                same = previous is not None and previous.image.shape == image.shape and np.array_equal(previous.image, image)
                self._repeats = self._repeats + 1 if same else 0
                self._latest = Frame(image, now, index)
                self._times = (self._times + [now])[-30:]
                self._cond.notify_all()
            index += 1

    def read(self, timeout_s: float = 1.0) -> Frame:
        """Block until a frame newer than the last one read arrives."""
        with self._cond:
            last = self._latest.index if self._latest else -1
            if not self._cond.wait_for(lambda: self._error or (self._latest and self._latest.index > last), timeout_s):
                raise CameraError(f"camera {self.name}: no frame within {timeout_s:g} s")
            self._check()
            return self._latest

    def read_latest(self, max_age_s: float) -> Frame:
        """The newest frame, if it is at most ``max_age_s`` old and the camera is healthy."""
        with self._cond:
            self._check()
            frame = self._latest
        if frame is None:
            raise CameraError(f"camera {self.name}: no frame yet")
        age = time.monotonic() - frame.timestamp
        if age > max_age_s:
            raise CameraError(f"camera {self.name}: newest frame is {1e3 * age:.0f} ms old "
                              f"(limit {1e3 * max_age_s:.0f} ms): frame rate collapsed or capture stalled")
        return frame

    def _check(self) -> None:
        if self._error:
            raise CameraError(self._error)
        if self._repeats >= self.frozen_after:
            raise CameraError(f"camera {self.name}: {self._repeats + 1} identical frames in a row: frozen image")

    @property
    def fps(self) -> float:
        """Measured over the last 30 frames."""
        t = self._times
        return (len(t) - 1) / (t[-1] - t[0]) if len(t) > 1 and t[-1] > t[0] else 0.0


class PacedCamera(Camera):
    """A synthetic source that produces frames at ``rate`` frames per second on its own clock."""

    rate: float

    def _open(self) -> None:
        self._next = time.monotonic()

    def _wait_for_next_frame(self) -> None:
        self._next += 1.0 / self.rate
        delay = self._next - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        else:  # fell behind (slow render, frame rate change): restart the clock rather than burst
            self._next = time.monotonic()

    def _close(self) -> None:
        pass


def frame_to_policy(image: np.ndarray, obs_shape: tuple[int, ...]) -> np.ndarray:
    """An RGB ``[H, W, 3]`` uint8 frame to the policy's channels-first ``[C, h, w]`` (C = 1: grayscale)."""
    channels, height, width = obs_shape
    if image.shape[:2] != (height, width):
        try:
            import cv2

            image = cv2.resize(image, (width, height), interpolation=cv2.INTER_AREA)
        except ImportError:  # nearest neighbour without OpenCV
            rows = np.arange(height) * image.shape[0] // height
            cols = np.arange(width) * image.shape[1] // width
            image = image[rows][:, cols]
    if channels == 1:
        gray = image[..., 0] * 0.299 + image[..., 1] * 0.587 + image[..., 2] * 0.114
        return np.clip(np.rint(gray), 0, 255).astype(np.uint8)[None]
    return np.ascontiguousarray(image.transpose(2, 0, 1))
