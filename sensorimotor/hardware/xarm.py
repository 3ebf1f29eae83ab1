"""``XArmGraspArm``: a UFACTORY xArm (5, 6, 7, Lite 6) with its gripper as the grasping task's arm.

It serves the same Cartesian joints as the simulated arm (:mod:`sensorimotor.hardware.sim_arm`): the
end effector's ``x``, ``y``, ``z`` (m) and ``yaw`` (rad) in the *task's* frame, the ``gripper``
(normalized: 0 open, 1 closed) and, with ``terminate_joint``, the ``qtopt`` layout's ``terminate``. A
grasp policy trained in simulation therefore deploys unchanged (``GraspGoals`` on the client); the
calibration file (JSON, :class:`XArmConfig`) says where the task's frame lies in the arm's base frame.

How it drives the arm (``xarm-python-sdk``, ``pip install 'sensorimotor[xarm]'``): on connect it
clears warnings and errors, enables motion and selects mode 7 (Cartesian online trajectory planning,
firmware >= 1.13: each new target replaces the one in progress, so goals at a fixed rate never queue
up), state 0, and sets the gripper to position mode. Each goal is one ``set_position(..., wait=False)``
with a top-down gripper (``roll_deg``, ``pitch_deg``) and, when the gripper command crosses 0.5, one
``set_gripper_position``. A ``terminate`` lifts the gripper to the workspace's top. Every SDK call's
return code is checked: a refused call, an error the controller reports or a lost connection stops
the arm (``set_state(4)``) and raises :class:`RobotError` with the code, so the server holds.

**What has run on an arm: nothing.** The driver is tested against
:class:`~sensorimotor.hardware.xarm_fake.FakeXArmAPI` (the SDK's calls, signatures checked against the
installed SDK, return codes and units) and against the real SDK with no arm at the address.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass

import numpy as np

from sensorimotor.errors import check
from sensorimotor.hardware.config_file import load_settings
from sensorimotor.hardware.robot import Robot, RobotError
from sensorimotor.hardware.spec import JointSpec, RobotSpec
# The grasping task's frame (m): the box the end effector stays in and its home. Importing the scene's
# constants does not import pybullet.
from sensorimotor.sim.pybullet.grasping.scene import HOME_END_EFFECTOR, WORKSPACE_HIGH, WORKSPACE_LOW

XARM_MAX_TCP_SPEED_MM_S = 1000.0
GRIPPER_PULSE_RANGE = (-10, 850)  # the xArm Gripper's position range (pulses)


@dataclass(frozen=True)
class XArmConfig:
    """One arm's address and its calibration to the task's frame."""

    ip: str = "192.168.1.185"
    task_origin_mm: tuple[float, float, float] = (0.0, 0.0, 0.0)
    """Where the task frame's origin lies in the arm's base frame (mm): a task position ``p`` (m) is
    commanded at ``1000 p + task_origin_mm``. Jog the gripper to a point whose task coordinates you
    know (the tray floor's centre) and subtract."""
    yaw_offset_deg: float = 0.0
    """The arm's yaw (deg) at which the gripper has the task's yaw 0."""
    roll_deg: float = 180.0
    pitch_deg: float = 0.0
    """The gripper's fixed roll and pitch (deg): 180 and 0 point it straight down."""
    workspace_low: tuple[float, float, float] = WORKSPACE_LOW
    workspace_high: tuple[float, float, float] = WORKSPACE_HIGH
    """The box (m, task frame) every goal is clamped into by the server's safety layer; shrink it to
    what this arm reaches safely over its tray."""
    home: tuple[float, float, float] = HOME_END_EFFECTOR
    """Where the server parks the gripper (m, task frame), open, yaw 0."""
    control_period_s: float = 0.5
    """One goal per period: a task step (6 cm) per 0.5 s is 120 mm/s, well inside ``speed_mm_s``, so
    the arm keeps up with its goals."""
    max_step_m: float = 0.12
    """Largest travel per period from the measured pose the safety layer lets through (m): twice the
    task's step, because the measured pose lags the commanded one (as on the simulated arm)."""
    max_yaw_step_rad: float = 0.5
    speed_mm_s: float = 250.0
    acc_mm_s2: float = 2000.0
    gripper_open: int = 850
    gripper_closed: int = 0
    gripper_speed: int = 5000
    terminate_joint: bool = False
    """Serve the ``qtopt`` layout's ``terminate`` joint (a policy exported for ``KukaGrasp-v0``)."""

    def validate(self) -> None:
        check(bool(self.ip), "xarm: ip is empty: give the controller's address, e.g. 192.168.1.185.")
        check(all(lo < hi for lo, hi in zip(self.workspace_low, self.workspace_high)),
              f"xarm: workspace_low {self.workspace_low} must lie below workspace_high {self.workspace_high}.")
        check(all(lo <= h <= hi for lo, h, hi in zip(self.workspace_low, self.home, self.workspace_high)),
              f"xarm: home {self.home} is outside the workspace box.")
        check(0.02 <= self.control_period_s <= 2.0, f"xarm: control_period_s must be 0.02..2 s, got {self.control_period_s}.")
        check(0 < self.max_step_m <= 0.2 and 0 < self.max_yaw_step_rad <= 1.0,
              "xarm: max_step_m must be in (0, 0.2] m and max_yaw_step_rad in (0, 1] rad.")
        check(0 < self.speed_mm_s <= XARM_MAX_TCP_SPEED_MM_S, f"xarm: speed_mm_s must be in (0, 1000], got {self.speed_mm_s}.")
        check(self.max_step_m * 1e3 / self.control_period_s <= self.speed_mm_s * 1.5,
              f"xarm: a step of {self.max_step_m} m per {self.control_period_s} s needs more than speed_mm_s "
              f"{self.speed_mm_s}: the arm would fall behind its goals. Raise speed_mm_s or the period.")
        for name in ("gripper_open", "gripper_closed"):
            value = getattr(self, name)
            check(GRIPPER_PULSE_RANGE[0] <= value <= GRIPPER_PULSE_RANGE[1],
                  f"xarm: {name} = {value} is outside the gripper's {GRIPPER_PULSE_RANGE} pulses.")
        check(self.gripper_open != self.gripper_closed, "xarm: gripper_open and gripper_closed must differ.")

    @classmethod
    def load(cls, path: str) -> "XArmConfig":
        return load_settings(cls, path, "xarm config", "start from `python -c \"from sensorimotor.hardware.xarm "
                             "import XArmConfig; XArmConfig().save('xarm.json')\"`.")

    def save(self, path: str) -> None:
        with open(path, "w") as f:
            json.dump(asdict(self), f, indent=1)


def xarm_spec(config: XArmConfig) -> RobotSpec:
    """The arm's Cartesian spec in the task's frame (what ``export --robot-spec FILE`` takes)."""
    period = config.control_period_s
    joints = tuple(JointSpec(axis, unit="m", lower=lo, upper=hi, max_velocity=config.max_step_m / period)
                   for axis, lo, hi in zip("xyz", config.workspace_low, config.workspace_high))
    joints += (JointSpec("yaw", unit="rad", lower=-math.pi, upper=math.pi, max_velocity=config.max_yaw_step_rad / period),
               JointSpec("gripper", unit="normalized", lower=0.0, upper=1.0, max_velocity=1.0 / period))
    park = (*config.home, 0.0, 0.0)
    if config.terminate_joint:
        joints += (JointSpec("terminate", unit="normalized", lower=0.0, upper=1.0, max_velocity=1.0 / period),)
        park += (0.0,)
    return RobotSpec(name="xarm-grasp", joints=joints, action="position", control_period_s=period,
                     observation=(("position", len(joints)),), workspace_low=tuple(config.workspace_low),
                     workspace_high=tuple(config.workspace_high), park=park)


class XArmGraspArm(Robot):
    """Args:
        config: an :class:`XArmConfig` or the path of its JSON file.
        api: an object with the SDK's ``XArmAPI`` calls (a :class:`FakeXArmAPI` in tests); default:
            ``xarm.wrapper.XArmAPI(config.ip)``, opened on :meth:`connect`.
    """

    def __init__(self, config: XArmConfig | str, api=None):
        self.config = XArmConfig.load(config) if isinstance(config, str) else config
        self.config.validate()
        self.spec = xarm_spec(self.config)
        self.api = api
        self._connected = False
        self._gripper_closed: bool | None = None

    # -- session -----------------------------------------------------------------------------------
    def connect(self) -> None:
        c = self.config
        if self.api is None:
            try:
                from xarm.wrapper import XArmAPI
            except ImportError:
                raise RobotError("the xArm driver needs the xArm SDK: pip install 'sensorimotor[xarm]'") from None
            self.api = XArmAPI(c.ip, is_radian=False, do_not_open=True)
        try:
            self.api.connect()
        except Exception as exc:  # noqa: BLE001 - the SDK raises a bare Exception when the socket fails
            raise RobotError(f"xArm at {c.ip} unreachable ({exc}): check the cable, the IP and that the "
                             "controller is on") from None
        if not self.api.connected:
            raise RobotError(f"xArm at {c.ip} unreachable: check the cable, the IP and that the controller is on")
        api = self.api
        try:
            self._call("clean_warn", api.clean_warn())
            self._call("clean_error", api.clean_error())
            self._call("motion_enable", api.motion_enable(enable=True))
            self._call("set_mode(7)", api.set_mode(7))
            self._call("set_state(0)", api.set_state(state=0))
            self._call("set_gripper_mode(0)", api.set_gripper_mode(0))
            self._call("set_gripper_enable", api.set_gripper_enable(True))
            self._call("set_gripper_speed", api.set_gripper_speed(c.gripper_speed))
        except RobotError:
            self._release()
            raise
        self._connected = True
        self._gripper_closed = None

    def disconnect(self) -> None:
        if self._connected:
            self._release()
        self._connected = False

    @property
    def is_connected(self) -> bool:
        return self._connected and bool(self.api.connected)

    # -- state and goals -----------------------------------------------------------------------------
    def observe(self) -> dict[str, np.ndarray]:
        self._require_connected()
        code, pose = self.api.get_position(is_radian=False)
        self._call("get_position", code)
        code, pulses = self.api.get_gripper_position()
        self._call("get_gripper_position", code)
        c = self.config
        xyz = (np.asarray(pose[:3], np.float64) - np.asarray(c.task_origin_mm)) / 1e3
        yaw = math.remainder(math.radians(float(pose[5]) - c.yaw_offset_deg), 2 * math.pi)
        closed = (c.gripper_open - float(pulses)) / (c.gripper_open - c.gripper_closed)
        position = [*xyz, yaw, float(np.clip(closed, 0.0, 1.0))] + [0.0] * (self.spec.action_size - 5)
        return {"position": np.array(position)}

    def send_action(self, action: np.ndarray) -> np.ndarray:
        self._require_connected()
        action = np.asarray(action, dtype=np.float64)
        if action.shape != (self.spec.action_size,) or not np.all(np.isfinite(action)):
            self._stop()
            raise RobotError(f"driver refused action {action!r}: the arm is stopped")
        c, api = self.config, self.api
        target = action[:3].copy()
        if c.terminate_joint and action[5] > 0.5:  # QT-Opt's terminate: lift what the gripper holds
            target[2] = c.workspace_high[2]
        x, y, z = target * 1e3 + np.asarray(c.task_origin_mm)
        yaw = math.degrees(action[3]) + c.yaw_offset_deg
        self._call("set_position", api.set_position(x=x, y=y, z=z, roll=c.roll_deg, pitch=c.pitch_deg, yaw=yaw,
                                                    speed=c.speed_mm_s, mvacc=c.acc_mm_s2, is_radian=False,
                                                    wait=False))
        closed = bool(action[4] > 0.5)
        if closed != self._gripper_closed:
            self._call("set_gripper_position", api.set_gripper_position(c.gripper_closed if closed else c.gripper_open,
                                                                        wait=False))
            self._gripper_closed = closed
        applied = action.copy()
        applied[:3], applied[4] = target, float(closed)
        return applied

    def forward_kinematics(self, position: np.ndarray) -> np.ndarray:
        """Cartesian: the end effector is the first three entries."""
        return np.asarray(position[:3], dtype=np.float64)

    # -- helpers -------------------------------------------------------------------------------------
    def _call(self, name: str, code) -> None:
        """An SDK return code: 0 is success, 2 a pending warning (the call still ran); anything else
        stops the arm and raises."""
        if code in (0, 2):
            return
        detail = ""
        try:
            err_code, codes = self.api.get_err_warn_code()
            if err_code == 0 and codes and codes[0]:
                detail = f", controller error C{codes[0]}"
        except Exception:  # noqa: BLE001 - the report must not hide the original failure
            pass
        self._stop()
        hint = " (connection lost)" if code == -1 else " (not enabled: the controller may have stopped)" \
            if code in (-2, 9) else ""
        raise RobotError(f"xArm {name} returned code {code}{detail}{hint}: the arm is stopped")

    def _stop(self) -> None:
        """Stop motion now (state 4). Never raises."""
        try:
            self.api.set_state(state=4)
        except Exception:  # noqa: BLE001
            pass

    def _release(self) -> None:
        self._stop()
        try:
            self.api.disconnect()
        except Exception:  # noqa: BLE001
            pass

    def _require_connected(self) -> None:
        if not self._connected:
            raise RobotError("xarm is not connected: call connect() first")
        if not self.api.connected:
            raise RobotError(f"xArm at {self.config.ip}: connection lost")
