"""sensorimotor: deep RL agents, batched simulators and a hardware bridge.

Importing the package picks a headless OpenGL backend for MuJoCo when none is set and there is no
display: MuJoCo reads ``MUJOCO_GL`` once, at import, and fails to render rather than fall back.
"""

import os

if "MUJOCO_GL" not in os.environ and not os.environ.get("DISPLAY"):
    os.environ["MUJOCO_GL"] = "egl"

__version__ = "0.1.0"
