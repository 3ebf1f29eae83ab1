"""``Robot``: the driver interface the server owns, and ``MockRobot`` for users without hardware.

A robot's spec (joints, limits, action semantics, cameras) is known before ``connect()``. The server
calls ``observe()`` and ``send_action()`` once per control period; ``send_action`` returns what the
driver actually applied (after its own limits), which is what gets logged and sent back.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod

import numpy as np

from sensorimotor.hardware.spec import JointSpec, RobotSpec


class RobotError(RuntimeError):
    """The robot cannot do what was asked (not connected, driver fault)."""


class Robot(ABC):
    """A driver. Subclasses set ``spec`` and implement the four methods.

    ``observe()`` returns named float arrays: at least ``position`` ``[J]`` (policy units, see
    :class:`JointSpec`), plus the entries of ``spec.observation``. Episodic (simulated) robots may
    also report ``reward``, ``terminated`` and ``truncated`` as shape ``[1]`` arrays and implement
    ``new_episode()``.
    """

    spec: RobotSpec
    episodic = False

    @abstractmethod
    def connect(self) -> None: ...

    @abstractmethod
    def observe(self) -> dict[str, np.ndarray]: ...

    @abstractmethod
    def send_action(self, action: np.ndarray) -> np.ndarray:
        """Apply ``action`` ``[J]`` (already checked by the safety layer); return what was applied."""

    @abstractmethod
    def disconnect(self) -> None: ...

    @property
    @abstractmethod
    def is_connected(self) -> bool: ...

    def forward_kinematics(self, position: np.ndarray) -> np.ndarray | None:
        """End-effector position (metres) at joint ``position``, or None when the robot has no
        workspace (then the safety layer checks joint limits only)."""
        return None

    def new_episode(self, seed: int | None = None) -> dict[str, np.ndarray]:
        raise RobotError(f"{type(self).__name__} is not episodic: it cannot start a new episode")

    def __enter__(self):
        self.connect()
        return self

    def __exit__(self, *exc):
        self.disconnect()


def planar_arm_spec(period_s: float = 0.01) -> RobotSpec:
    """A two-joint planar arm (links 0.3 m and 0.25 m) with a workspace box in front of its base."""
    joints = (JointSpec("shoulder", lower=-2.5, upper=2.5, max_velocity=3.0),
              JointSpec("elbow", lower=-2.5, upper=2.5, max_velocity=3.0))
    return RobotSpec(name="mock-planar-arm", joints=joints, action="position", control_period_s=period_s,
                     observation=(("position", 2), ("velocity", 2)), workspace_low=(-0.1, -0.5, -0.01),
                     workspace_high=(0.6, 0.5, 0.01), park=(0.0, 0.0))


class MockRobot(Robot):
    """A simulated two-joint arm in the driver's shoes: position goals are tracked with a first-order
    lag limited by each joint's ``max_velocity``. Every applied action is kept in ``applied`` so tests
    can check what reached the motors.

    Args:
        spec: defaults to :func:`planar_arm_spec`.
        tracking: fraction of the remaining error closed per period (0-1).
        links: link lengths in metres for the forward kinematics.
    """

    def __init__(self, spec: RobotSpec | None = None, tracking: float = 0.5, links=(0.3, 0.25)):
        self.spec = spec or planar_arm_spec()
        self.tracking = tracking
        self.links = links
        self._position = np.zeros(self.spec.action_size)
        self._velocity = np.zeros(self.spec.action_size)
        self._connected = False
        self.applied: list[np.ndarray] = []
        self.position_at_apply: list[np.ndarray] = []

    def connect(self) -> None:
        self._connected = True

    def disconnect(self) -> None:
        self._connected = False

    @property
    def is_connected(self) -> bool:
        return self._connected

    def observe(self) -> dict[str, np.ndarray]:
        self._require()
        return {"position": self._position.copy(), "velocity": self._velocity.copy()}

    def send_action(self, action: np.ndarray) -> np.ndarray:
        self._require()
        action = np.asarray(action, dtype=np.float64)
        if action.shape != (self.spec.action_size,) or not np.all(np.isfinite(action)):
            # The last line of defence: a driver refuses what the safety layer should never pass.
            raise RobotError(f"driver refused action {action!r}")
        dt = self.spec.control_period_s
        vmax = np.array([j.max_velocity for j in self.spec.joints])
        if self.spec.action == "position":
            step = np.clip(self.tracking * (action - self._position), -vmax * dt, vmax * dt)
        else:  # velocity (effort is treated as a velocity command on this toy plant)
            step = np.clip(action, -vmax, vmax) * dt
        lower = np.array([j.lower for j in self.spec.joints])
        upper = np.array([j.upper for j in self.spec.joints])
        new = np.clip(self._position + step, lower, upper)
        self._velocity = (new - self._position) / dt
        self._position = new
        self.applied.append(action.copy())
        self.position_at_apply.append(self._position.copy())
        return action

    def forward_kinematics(self, position: np.ndarray) -> np.ndarray | None:
        if len(self.links) != 2 or self.spec.action_size != 2 or not self.spec.workspace_low:
            return None
        a, b = float(position[0]), float(position[0] + position[1])
        return np.array([self.links[0] * math.cos(a) + self.links[1] * math.cos(b),
                         self.links[0] * math.sin(a) + self.links[1] * math.sin(b), 0.0])

    def set_position(self, position) -> None:
        """Teleport (tests and bring-up only)."""
        self._position = np.asarray(position, dtype=np.float64).copy()

    def _require(self):
        if not self._connected:
            raise RobotError(f"{self.spec.name} is not connected: call connect() first")
