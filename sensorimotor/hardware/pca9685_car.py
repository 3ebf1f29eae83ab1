"""``PCA9685Car``: a small car (Donkey Car style) whose steering servo and ESC hang off a PCA9685.

The calibration file (JSON, :class:`CarCalibration`) holds what differs from car to car: the I2C bus
and address, the PWM frequency, each channel, and the PWM endpoints in ticks (Donkey Car's
``STEERING_LEFT_PWM`` etc.): full left, centre, full right; full forward, stopped, full reverse. Commands
map linearly on each side of the centre / stop point. Endpoints outside a servo's 500-2500 us
pulses are refused when the file is read.

Neutral on every exit path: the car is centred and its throttle at ``stopped`` when it connects, when
an action cannot be applied, when it disconnects, and at interpreter exit. The server's safety layer
sends the zero command (centre, stopped) while holding, after the watchdog fires and on an e-stop.
This driver has been tested only against :class:`~sensorimotor.hardware.pca9685.FakeI2CBus`, never on
a car (docs/hardware.md says so).
"""

from __future__ import annotations

import atexit
import json
from dataclasses import asdict, dataclass

import numpy as np

from sensorimotor.errors import check
from sensorimotor.hardware.car import car_spec
from sensorimotor.hardware.config_file import load_settings
from sensorimotor.hardware.pca9685 import DEFAULT_ADDRESS, PCA9685, I2CError, open_bus
from sensorimotor.hardware.robot import Robot, RobotError

SERVO_PULSE_US = (500.0, 2500.0)  # what hobby servos and ESCs accept


@dataclass(frozen=True)
class CarCalibration:
    """One car's wiring and PWM endpoints (ticks of 4096 per period; Donkey Car's defaults at 60 Hz)."""

    i2c_bus: int = 1
    address: int = DEFAULT_ADDRESS
    frequency_hz: float = 60.0
    steering_channel: int = 1
    steering_left: int = 460
    steering_center: int = 375
    steering_right: int = 290
    throttle_channel: int = 0
    throttle_forward: int = 500
    throttle_stopped: int = 370
    throttle_reverse: int = 220
    max_throttle: float = 0.5
    """The speed limit: the largest throttle the server lets through (share of full forward)."""
    max_reverse: float = 0.3

    def validate(self) -> None:
        check(24 <= self.frequency_hz <= 1526, f"frequency_hz must be 24..1526 Hz (PCA9685), got {self.frequency_hz}.")
        low, high = (round(us * 1e-6 * self.frequency_hz * 4096) for us in SERVO_PULSE_US)
        for name in ("steering_left", "steering_center", "steering_right", "throttle_forward", "throttle_stopped",
                     "throttle_reverse"):
            value = getattr(self, name)
            check(low <= value <= high, f"calibration {name} = {value} ticks is outside a servo's "
                  f"{SERVO_PULSE_US[0]:.0f}-{SERVO_PULSE_US[1]:.0f} us ({low}-{high} ticks at {self.frequency_hz:g} Hz).")
        check(min(self.steering_left, self.steering_right) < self.steering_center
              < max(self.steering_left, self.steering_right), "steering_center must lie between left and right.")
        check(min(self.throttle_forward, self.throttle_reverse) < self.throttle_stopped
              < max(self.throttle_forward, self.throttle_reverse), "throttle_stopped must lie between forward and reverse.")
        check(self.steering_channel != self.throttle_channel and 0 <= self.steering_channel <= 15
              and 0 <= self.throttle_channel <= 15, "steering and throttle need two different channels 0..15.")
        check(0 < self.max_throttle <= 1 and 0 <= self.max_reverse <= 1, "max_throttle must be in (0, 1] and "
              "max_reverse in [0, 1].")

    @classmethod
    def load(cls, path: str) -> "CarCalibration":
        return load_settings(cls, path, "car calibration", "write one (docs/hardware.md, 'A real car') or start "
                             "from `sensorimotor.hardware.pca9685_car.CarCalibration().save(path)`.")

    def save(self, path: str) -> None:
        with open(path, "w") as f:
            json.dump(asdict(self), f, indent=1)

    def steering_ticks(self, steering: float) -> int:
        """``steering`` in [-1, 1] (+1 full left) -> ticks, linear on each side of the centre."""
        s = float(np.clip(steering, -1.0, 1.0))
        end = self.steering_left if s >= 0 else self.steering_right
        return int(round(self.steering_center + abs(s) * (end - self.steering_center)))

    def throttle_ticks(self, throttle: float) -> int:
        """``throttle`` in [-1, 1] (+1 full forward, 0 stopped) -> ticks, linear on each side of the stop."""
        t = float(np.clip(throttle, -1.0, 1.0))
        end = self.throttle_forward if t >= 0 else self.throttle_reverse
        return int(round(self.throttle_stopped + abs(t) * (end - self.throttle_stopped)))


class PCA9685Car(Robot):
    """Args:
        calibration: a :class:`CarCalibration` or the path of its JSON file.
        bus: an open I2C bus (smbus2 ``SMBus`` or :class:`FakeI2CBus`); default: open ``i2c_bus``.
        control_period_s: the server's period (the policy's 20 Hz by default).
    """

    def __init__(self, calibration: CarCalibration | str, bus=None, control_period_s: float = 0.05):
        self.calibration = CarCalibration.load(calibration) if isinstance(calibration, str) else calibration
        self.calibration.validate()
        c = self.calibration
        self.spec = car_spec(name="pca9685-car", max_throttle=c.max_throttle, max_reverse=c.max_reverse,
                             control_period_s=control_period_s, camera=None, observed_speed=False)
        self._bus, self._own_bus = bus, bus is None
        self.chip: PCA9685 | None = None
        self._applied = np.zeros(2)

    def connect(self) -> None:
        c = self.calibration
        try:
            if self._bus is None:
                self._bus = open_bus(c.i2c_bus)
            self.chip = PCA9685(self._bus, c.address, c.frequency_hz)
        except I2CError as exc:
            raise RobotError(str(exc)) from None
        atexit.register(self.neutral)
        self.neutral()

    def neutral(self) -> None:
        """Centre the steering and stop the throttle (the throttle first). Never raises."""
        if self.chip is None:
            return
        c = self.calibration
        for channel, ticks in ((c.throttle_channel, c.throttle_stopped), (c.steering_channel, c.steering_center)):
            try:
                self.chip.set_pulse(channel, ticks)
            except Exception:  # noqa: BLE001 - the other channel must still be tried
                pass
        self._applied = np.zeros(2)

    def observe(self) -> dict[str, np.ndarray]:
        if self.chip is None:
            raise RobotError("pca9685-car is not connected: call connect() first")
        return {"position": self._applied.copy()}  # no sensors: the command being applied

    def send_action(self, action: np.ndarray) -> np.ndarray:
        if self.chip is None:
            raise RobotError("pca9685-car is not connected: call connect() first")
        action = np.asarray(action, dtype=np.float64)
        if action.shape != (2,) or not np.all(np.isfinite(action)):
            self.neutral()
            raise RobotError(f"driver refused action {action!r}: the car is stopped")
        c = self.calibration
        applied = np.array([np.clip(action[0], -1, 1), np.clip(action[1], -c.max_reverse, c.max_throttle)])
        try:
            self.chip.set_pulse(c.steering_channel, c.steering_ticks(applied[0]))
            self.chip.set_pulse(c.throttle_channel, c.throttle_ticks(applied[1]))
        except OSError as exc:
            self.neutral()
            raise RobotError(f"I2C write failed ({exc}): the car is stopped") from None
        self._applied = applied
        return applied.copy()

    def disconnect(self) -> None:
        self.neutral()
        atexit.unregister(self.neutral)
        if self._own_bus and self._bus is not None:
            self._bus.close()
            self._bus = None
        self.chip = None

    @property
    def is_connected(self) -> bool:
        return self.chip is not None
