"""``FakeXArmAPI``: the xArm SDK's calls that :class:`~sensorimotor.hardware.xarm.XArmGraspArm` makes,
answered like a controller would: for tests, and for users who want to try the driver without an arm.

It keeps the SDK's conventions: millimetres and degrees, return codes (0 done, 1 an uncleared
controller error, 2 a warning, 9 state not ready, -1 not connected, -2 not enabled) and
``(code, value)`` tuples for reads. A mode-7 target is approached at the commanded speed in wall-clock
time, so the measured pose lags the goal as on an arm. Faults are injected with :meth:`inject_error`
(a controller error, as a collision or a joint limit raises) and :meth:`unplug`.
"""

from __future__ import annotations

import time

import numpy as np

NOT_CONNECTED, NOT_READY, HAS_ERROR, STATE_NOT_READY = -1, -2, 1, 9
ROTATION_DEG_S = 180.0


class FakeXArmAPI:
    """Args:
        port: the controller's address (only recorded).
        pose: starting pose ``[x, y, z, roll, pitch, yaw]`` (mm, deg).
        reachable: False: :meth:`connect` raises as the SDK does when nothing answers.
    """

    def __init__(self, port: str = "192.168.1.185", pose=(537.0, 0.0, 500.0, 180.0, 0.0, 0.0), reachable: bool = True,
                 **_):
        self.port, self.reachable = port, reachable
        self.pose = np.array(pose, np.float64)
        self.target = self.pose.copy()
        self.speed_mm_s = 100.0
        self.gripper = 850.0
        self.gripper_enabled = False
        self.gripper_mode = None
        self.mode, self.state = 0, 4
        self.enabled = False
        self.error = 0
        self.calls: list[tuple[str, dict]] = []
        self._connected = False
        self._moved_at = time.monotonic()

    # -- the SDK's surface (names and parameters as in xarm.wrapper.XArmAPI) ------------------------
    @property
    def connected(self) -> bool:
        return self._connected

    def connect(self, port=None, baudrate=None, timeout=None, axis=None, **kwargs):
        self._log("connect")
        if not self.reachable:
            raise Exception("connect socket failed")  # what the SDK raises
        self._connected = True

    def disconnect(self):
        self._log("disconnect")
        self._connected = False

    def clean_warn(self):
        self._log("clean_warn")
        return self._code()

    def clean_error(self):
        self._log("clean_error")
        if not self._connected:
            return NOT_CONNECTED
        self.error = 0
        return 0

    def motion_enable(self, enable=True, servo_id=None):
        self._log("motion_enable", enable=enable)
        if not self._connected:
            return NOT_CONNECTED
        self.enabled = bool(enable)
        return 0

    def set_mode(self, mode=0, detection_param=0):
        self._log("set_mode", mode=mode)
        if not self._connected:
            return NOT_CONNECTED
        self.mode = mode
        return 0

    def set_state(self, state=0):
        self._log("set_state", state=state)
        if not self._connected:
            return NOT_CONNECTED
        if state == 4:
            self._advance()
            self.target = self.pose.copy()  # stop where it is
        self.state = state
        return HAS_ERROR if self.error else 0

    def get_position(self, is_radian=None):
        if not self._connected:
            return NOT_CONNECTED, "xArm is not connect"
        self._advance()
        pose = self.pose.copy()
        if is_radian:
            pose[3:] = np.radians(pose[3:])
        return self._code(), pose.tolist()

    def set_position(self, x=None, y=None, z=None, roll=None, pitch=None, yaw=None, radius=None, speed=None, mvacc=None,
                     mvtime=None, relative=False, is_radian=None, wait=False, timeout=None, **kwargs):
        self._log("set_position", x=x, y=y, z=z, roll=roll, pitch=pitch, yaw=yaw, speed=speed, wait=wait)
        if not self._connected:
            return NOT_CONNECTED
        if self.error:
            return HAS_ERROR
        if not self.enabled:
            return NOT_READY
        if self.state not in (0, 1, 2) or self.mode != 7:
            return STATE_NOT_READY
        self._advance()
        values = [x, y, z, roll, pitch, yaw]
        if is_radian:
            values[3:] = [None if v is None else float(np.degrees(v)) for v in values[3:]]
        self.target = np.array([t if v is None else float(v) for v, t in zip(values, self.target)])
        self.speed_mm_s = float(speed or self.speed_mm_s)
        self.state = 1
        return 0

    def get_gripper_position(self, **kwargs):
        if not self._connected:
            return NOT_CONNECTED, None
        return self._code(), self.gripper

    def set_gripper_enable(self, enable, **kwargs):
        self._log("set_gripper_enable", enable=enable)
        self.gripper_enabled = bool(enable)
        return self._code()

    def set_gripper_mode(self, mode, **kwargs):
        self._log("set_gripper_mode", mode=mode)
        self.gripper_mode = mode
        return self._code()

    def set_gripper_speed(self, speed, **kwargs):
        self._log("set_gripper_speed", speed=speed)
        return self._code()

    def set_gripper_position(self, pos, wait=False, speed=None, auto_enable=False, timeout=None, **kwargs):
        self._log("set_gripper_position", pos=pos, wait=wait)
        if not self._connected:
            return NOT_CONNECTED
        if not self.gripper_enabled:
            return NOT_READY
        self.gripper = float(pos)  # the fingers' travel is not modelled
        return self._code()

    def get_err_warn_code(self, show=False, lang="en"):
        if not self._connected:
            return NOT_CONNECTED, "xArm is not connect"
        return 0, [self.error, 0]

    # -- faults ------------------------------------------------------------------------------------
    def inject_error(self, code: int = 31) -> None:
        """The controller raises error ``code`` (C31: collision caused abnormal current): motion stops."""
        self._advance()
        self.error, self.state, self.target = code, 4, self.pose.copy()

    def unplug(self) -> None:
        """The cable is pulled: every later call answers not connected."""
        self._connected = False

    # -- helpers -----------------------------------------------------------------------------------
    def _advance(self) -> None:
        """Move the pose toward the target: the position in a straight line at the commanded speed
        (mm/s), the angles at ``ROTATION_DEG_S``."""
        now = time.monotonic()
        dt, self._moved_at = now - self._moved_at, now
        delta = self.target - self.pose
        delta[3:] = (delta[3:] + 180.0) % 360.0 - 180.0
        distance, step = float(np.linalg.norm(delta[:3])), self.speed_mm_s * dt
        self.pose[:3] += delta[:3] if distance <= step else delta[:3] * step / distance
        self.pose[3:] += np.clip(delta[3:], -ROTATION_DEG_S * dt, ROTATION_DEG_S * dt)

    def _code(self) -> int:
        if not self._connected:
            return NOT_CONNECTED
        return HAS_ERROR if self.error else 0

    def _log(self, name: str, **args) -> None:
        self.calls.append((name, args))
