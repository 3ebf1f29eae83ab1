"""``RobotSpec``: what a policy and a robot must agree on, with a hash both sides check.

A spec names the joints in order and, for each, its unit, sign and offset (how the driver's raw
reading maps to the policy's frame), its position and velocity limits; the action semantics; the
control period; the workspace box of the end effector; and the cameras. Its hash is a SHA-256 of the
canonical JSON, so any change in order, unit or limit changes it, and a policy exported for one spec
is refused by a server running another.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import asdict, dataclass, field

import numpy as np

ACTION_SEMANTICS = ("position", "velocity", "effort")


@dataclass(frozen=True)
class JointSpec:
    """One actuated joint. Limits are in ``unit`` (rad, m, or ``normalized`` for a command in
    [-1, 1]); ``raw = sign * value + offset`` converts to the driver's frame."""

    name: str
    unit: str = "rad"
    lower: float = -math.pi
    upper: float = math.pi
    max_velocity: float = 2.0
    """Largest speed, ``unit`` per second; with position actions, how far a goal may lead the
    measured position in one control period is ``max_velocity * control_period_s``."""
    sign: float = 1.0
    offset: float = 0.0


@dataclass(frozen=True)
class CameraSpec:
    name: str
    height: int
    width: int
    channels: int = 3
    fps: float = 30.0


@dataclass(frozen=True)
class RobotSpec:
    """The contract between a trained policy and a served robot.

    Attributes:
        name: robot model name.
        joints: actuated joints, in action order.
        action: ``position``, ``velocity`` or ``effort`` (what one action entry commands).
        control_period_s: seconds between goals the server's loop expects.
        observation: ``{name: size}`` of the flat observation entries the robot reports, in order.
        workspace_low, workspace_high: end-effector box in metres (empty when not applicable).
        park: joint values to move to before release (empty: hold where it stopped).
        max_command_step: for velocity/effort actions, the largest change of a command in one period.
        cameras: cameras the robot serves with each state.
    """

    name: str
    joints: tuple[JointSpec, ...]
    action: str = "position"
    control_period_s: float = 0.05
    observation: tuple[tuple[str, int], ...] = ()
    workspace_low: tuple[float, ...] = ()
    workspace_high: tuple[float, ...] = ()
    park: tuple[float, ...] = ()
    max_command_step: float = math.inf
    cameras: tuple[CameraSpec, ...] = field(default_factory=tuple)

    def __post_init__(self):
        if self.action not in ACTION_SEMANTICS:
            raise ValueError(f"action must be one of {ACTION_SEMANTICS}, got {self.action!r}")
        if not self.joints:
            raise ValueError("a robot spec needs at least one joint")
        if not (self.control_period_s > 0 and math.isfinite(self.control_period_s)):
            raise ValueError(f"control_period_s must be positive, got {self.control_period_s}")
        for j in self.joints:
            if j.sign not in (1.0, -1.0):
                raise ValueError(f"joint {j.name!r}: sign must be +1 or -1, got {j.sign}")
            if not j.lower < j.upper:
                raise ValueError(f"joint {j.name!r}: lower {j.lower} must be below upper {j.upper}")
        if len(self.workspace_low) != len(self.workspace_high):
            raise ValueError("workspace_low and workspace_high need the same length")
        if self.park and len(self.park) != len(self.joints):
            raise ValueError(f"park has {len(self.park)} values for {len(self.joints)} joints")

    @property
    def action_size(self) -> int:
        return len(self.joints)

    @property
    def observation_size(self) -> int:
        return sum(size for _, size in self.observation)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "RobotSpec":
        d = dict(d)
        d["joints"] = tuple(JointSpec(**j) for j in d["joints"])
        d["cameras"] = tuple(CameraSpec(**c) for c in d.get("cameras", ()))
        d["observation"] = tuple((str(n), int(s)) for n, s in d.get("observation", ()))
        for key in ("workspace_low", "workspace_high", "park"):
            d[key] = tuple(float(v) for v in d.get(key, ()))
        return cls(**d)

    def to_raw(self, values) -> np.ndarray:
        """Policy-frame joint values ``[J]`` to the driver's frame: ``sign * value + offset``."""
        return np.array([j.sign for j in self.joints]) * np.asarray(values, dtype=np.float64) + \
            np.array([j.offset for j in self.joints])

    def from_raw(self, raw) -> np.ndarray:
        """The driver's joint readings ``[J]`` to the policy's frame (inverse of :meth:`to_raw`)."""
        return (np.asarray(raw, dtype=np.float64) - np.array([j.offset for j in self.joints])) / \
            np.array([j.sign for j in self.joints])

    def hash(self) -> str:
        """SHA-256 (hex, first 16 characters) of the canonical JSON of the spec."""
        canonical = json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"), allow_nan=True)
        return hashlib.sha256(canonical.encode()).hexdigest()[:16]
