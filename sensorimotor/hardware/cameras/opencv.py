"""OpenCV capture: a device index, a stable ``/dev/v4l/by-id`` path, a video file or a stream URL."""

from __future__ import annotations

import numpy as np

from sensorimotor.hardware.cameras.base import Camera, CameraError


class OpenCVCamera(Camera):
    """``source``: a device index (``0``), a stable path (``/dev/v4l/by-id/...``), a video file or a
    stream URL (``rtsp://``, ``http://``). Frames are converted from OpenCV's BGR to RGB."""

    def __init__(self, source: int | str, width: int | None = None, height: int | None = None,
                 fps: float | None = None, name: str | None = None, frozen_after: int = 30):
        super().__init__(name or str(source), frozen_after)
        self.source, self.size, self.rate = source, (width, height), fps
        self._cap = None

    def _open(self) -> None:
        try:
            import cv2
        except ImportError:
            raise CameraError("OpenCV cameras need opencv: pip install -e '.[hardware]'") from None
        self._cv2 = cv2
        self._cap = cv2.VideoCapture(self.source)
        if not self._cap.isOpened():
            raise CameraError(f"camera {self.name}: cannot open {self.source!r} (unplugged, busy, or a wrong path?)")
        if self.size[0]:
            self._cap.set(cv2.CAP_PROP_FRAME_WIDTH, self.size[0])
        if self.size[1]:
            self._cap.set(cv2.CAP_PROP_FRAME_HEIGHT, self.size[1])
        if self.rate:
            self._cap.set(cv2.CAP_PROP_FPS, self.rate)

    def _grab(self) -> np.ndarray | None:
        ok, bgr = self._cap.read()
        if not ok:
            return None
        return self._cv2.cvtColor(bgr, self._cv2.COLOR_BGR2RGB)

    def _close(self) -> None:
        if self._cap is not None:
            self._cap.release()


def opencv_from_uri(argument: str) -> OpenCVCamera:
    """``opencv:0``, ``opencv:/dev/v4l/by-id/...``, ``opencv:video.mp4``, ``opencv:rtsp://...``."""
    if not argument:
        raise CameraError("an OpenCV camera needs its source: opencv:INDEX, opencv:PATH or opencv:URL")
    return OpenCVCamera(int(argument) if argument.isdigit() else argument)
