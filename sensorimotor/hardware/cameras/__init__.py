"""Cameras, one module per backend; ``hardware/registry.py`` builds them by name (``make_camera``)."""

from sensorimotor.hardware.cameras.base import Camera, CameraError, Frame, PacedCamera, frame_to_policy
from sensorimotor.hardware.cameras.mock import MockCamera
from sensorimotor.hardware.cameras.opencv import OpenCVCamera
from sensorimotor.hardware.cameras.realsense import RealSenseCamera
from sensorimotor.hardware.cameras.sim import SimCamera

__all__ = ["Camera", "CameraError", "Frame", "MockCamera", "OpenCVCamera", "PacedCamera", "RealSenseCamera",
           "SimCamera", "frame_to_policy"]
