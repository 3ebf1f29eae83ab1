"""The car on the bridge: the PCA9685's exact register writes, calibration checks, neutral throttle on
every exit path, the watchdog and the e-stop braking the car, and the served driving world."""

import json
import time

import numpy as np
import pytest

from sensorimotor.errors import UserError
from sensorimotor.hardware.car import car_spec
from sensorimotor.hardware.client import RobotClient
from sensorimotor.hardware.pca9685 import FakeI2CBus, PCA9685, open_bus, I2CError, prescale_for
from sensorimotor.hardware.pca9685_car import CarCalibration, PCA9685Car
from sensorimotor.hardware.robot import RobotError
from sensorimotor.hardware.safety import SafetyConfig
from sensorimotor.hardware.server import RobotServer

ADDRESS = 0x40
# Donkey Car defaults at 60 Hz: steering on channel 1 (LED1 at 0x0A), throttle on channel 0 (LED0 at 0x06).
STEERING_REG, THROTTLE_REG = 0x06 + 4 * 1, 0x06


def block(register, ticks):
    """The four byte writes of one pulse: ON = 0, OFF = ticks (low byte, then high)."""
    return [(ADDRESS, register, 0), (ADDRESS, register + 1, 0), (ADDRESS, register + 2, ticks & 0xFF),
            (ADDRESS, register + 3, ticks >> 8)]


def test_prescale_matches_the_datasheet():
    assert prescale_for(50) == 121 and prescale_for(60) == 101  # round(25e6 / (4096 f)) - 1
    with pytest.raises(ValueError):
        prescale_for(2000)


def test_chip_setup_writes_the_datasheet_sequence():
    bus = FakeI2CBus()
    PCA9685(bus, ADDRESS, frequency_hz=60)
    assert bus.writes == [(ADDRESS, 0x01, 0x04),  # MODE2: totem-pole outputs
                          (ADDRESS, 0x00, 0x01),  # MODE1: awake, ALLCALL
                          (ADDRESS, 0x00, 0x11),  # asleep to write the prescaler
                          (ADDRESS, 0xFE, 101),  # PRE_SCALE for 60 Hz
                          (ADDRESS, 0x00, 0x01),  # awake again
                          (ADDRESS, 0x00, 0xA1)]  # RESTART | AI | ALLCALL


def test_centre_full_left_full_right_and_neutral_throttle_register_writes():
    bus = FakeI2CBus()
    car = PCA9685Car(CarCalibration(), bus=bus)
    car.connect()
    setup = len(bus.writes) - 8
    # Connecting ends neutral: throttle stopped (370 = 0x172) first, then steering centred (375 = 0x177).
    assert bus.writes[setup:] == block(THROTTLE_REG, 370) + block(STEERING_REG, 375)
    for steering, ticks in ((1.0, 460), (-1.0, 290), (0.0, 375), (0.5, 418)):  # 375 + 0.5 x 85 = 417.5
        bus.writes.clear()
        applied = car.send_action(np.array([steering, 0.0]))
        assert bus.writes == block(STEERING_REG, ticks) + block(THROTTLE_REG, 370), steering
        assert applied[0] == steering
    bus.writes.clear()
    applied = car.send_action(np.array([0.0, 0.9]))  # beyond the calibration's 0.5 speed limit
    assert applied[1] == 0.5 and bus.pulse(0) == 435  # 370 + 0.5 x (500 - 370)
    car.disconnect()
    assert bus.pulse(0) == 370 and bus.pulse(1) == 375 and not car.is_connected


def test_a_nan_or_a_failing_bus_stops_the_car_and_says_so():
    bus = FakeI2CBus()
    car = PCA9685Car(CarCalibration(), bus=bus)
    car.connect()
    car.send_action(np.array([0.3, 0.4]))
    with pytest.raises(RobotError, match="the car is stopped"):
        car.send_action(np.array([np.nan, 0.4]))
    assert bus.pulse(0) == 370 and bus.pulse(1) == 375
    with pytest.raises(RobotError, match="no PCA9685 answers at 0x40"):
        PCA9685Car(CarCalibration(), bus=FakeI2CBus(fail=True)).connect()


def test_calibration_outside_a_servos_range_or_a_missing_bus_is_one_line(tmp_path):
    path = tmp_path / "car.json"
    json.dump({"steering_left": 900}, open(path, "w"))  # 900 ticks at 60 Hz is 3.7 ms
    with pytest.raises(UserError, match="steering_left = 900 ticks is outside a servo's 500-2500 us"):
        CarCalibration.load(str(path))
    json.dump({"steering_center": 200}, open(path, "w"))
    with pytest.raises(UserError, match="steering_center must lie between"):
        CarCalibration.load(str(path))
    json.dump({"steering_lft": 400}, open(path, "w"))
    with pytest.raises(UserError, match="unknown key"):
        CarCalibration.load(str(path))
    with pytest.raises(I2CError, match="/dev/i2c-97 cannot be opened"):
        open_bus(97)


def serve_fake_car(**safety):
    bus = FakeI2CBus()
    car = PCA9685Car(CarCalibration(), bus=bus)
    server = RobotServer(car, "tcp://127.0.0.1:0", safety=SafetyConfig(**safety))
    thread = server.start()
    return bus, car, server, thread


def wait_for(condition, timeout_s=3.0):
    """Poll ``condition`` until it holds (the server applies commands on its own 20 Hz clock)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.01)
    return condition()


def test_the_car_brakes_when_the_client_goes_silent_and_on_an_estop():
    bus, car, server, thread = serve_fake_car(hold_after=3, stop_after=10)
    client = RobotClient(server.bound_address, car.spec.hash(), timeout_s=2.0)
    try:
        client.connect()
        for _ in range(10):  # the throttle climbs at most 0.3 per period (6/s at 20 Hz) to the 0.4 asked
            client.send_goal(np.array([0.2, 0.4]))
            time.sleep(0.05)
        assert wait_for(lambda: bus.pulse(0) == 370 + round(0.4 * 130) and bus.pulse(1) == 375 + round(0.2 * 85))
        # Silence: after 3 periods without a goal the server holds, sending the zero command.
        assert wait_for(lambda: bus.pulse(0) == 370 and bus.pulse(1) == 375)
        client.send_goal(np.array([0.0, 0.3]))
        assert wait_for(lambda: bus.pulse(0) > 370)
        server.estop("test")
        assert wait_for(lambda: bus.pulse(0) == 370)
        client.send_goal(np.array([0.0, 0.3]))  # latched: stopped until a reset
        time.sleep(0.2)
        assert bus.pulse(0) == 370
    finally:
        client.close(say_bye=False)
        server.stop()
        thread.join(5)
    assert bus.pulse(0) == 370 and not car.is_connected  # released neutral


def test_the_car_spec_limits_rate_and_speed():
    spec = car_spec(max_throttle=0.5)
    assert [j.name for j in spec.joints] == ["steering", "throttle"] and spec.action == "effort"
    assert spec.joints[1].upper == 0.5 and spec.max_command_step == pytest.approx(0.3)
