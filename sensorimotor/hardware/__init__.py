"""The hardware bridge: robots, cameras, the safety layer, transport and the fixed-rate runtime.

Nothing here imports torch: the deploy side runs an exported ONNX policy with onnxruntime, numpy,
pyzmq and msgpack (the ``hardware`` extra). See docs/hardware.md.
"""

from sensorimotor.hardware.cameras import Camera, MockCamera
from sensorimotor.hardware.robot import MockRobot, Robot

__all__ = ["Camera", "MockCamera", "MockRobot", "Robot"]
