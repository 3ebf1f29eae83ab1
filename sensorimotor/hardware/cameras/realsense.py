"""Intel RealSense colour stream (needs ``pyrealsense2``)."""

from __future__ import annotations

import numpy as np

from sensorimotor.hardware.cameras.base import Camera, CameraError


class RealSenseCamera(Camera):
    """Colour stream of an Intel RealSense (needs ``pyrealsense2``)."""

    def __init__(self, serial: str | None = None, width: int = 640, height: int = 480, fps: int = 30,
                 name: str = "realsense"):
        super().__init__(name)
        self.serial, self.width, self.height, self.rate = serial, width, height, fps
        self._pipeline = None

    def _open(self) -> None:
        try:
            import pyrealsense2 as rs
        except ImportError:
            raise CameraError("RealSense cameras need pyrealsense2: pip install pyrealsense2") from None
        self._rs = rs
        config = rs.config()
        if self.serial:
            config.enable_device(self.serial)
        config.enable_stream(rs.stream.color, self.width, self.height, rs.format.rgb8, self.rate)
        self._pipeline = rs.pipeline()
        self._pipeline.start(config)

    def _grab(self) -> np.ndarray | None:
        frames = self._pipeline.wait_for_frames(timeout_ms=2000)
        color = frames.get_color_frame()
        return None if not color else np.asanyarray(color.get_data()).copy()

    def _close(self) -> None:
        if self._pipeline is not None:
            self._pipeline.stop()
