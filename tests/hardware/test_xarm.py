"""The xArm driver against a fake at the SDK-call level (whose calls are checked against the installed
SDK's signatures) and against the real SDK with no arm at the address; served through a real bridge
server, a grasp policy's goals reach the SDK in millimetres and degrees, and faults stop the arm."""

import inspect
import json
import math
import time

import numpy as np
import pytest

from sensorimotor.errors import UserError
from sensorimotor.hardware.client import RobotClient
from sensorimotor.hardware.registry import make_robot
from sensorimotor.hardware.robot import RobotError
from sensorimotor.hardware.safety import SafetyConfig
from sensorimotor.hardware.server import RobotServer
from sensorimotor.hardware.xarm import XArmConfig, XArmGraspArm, xarm_spec
from sensorimotor.hardware.xarm_fake import FakeXArmAPI
from tests.helpers import run_cli

ORIGIN = (-200.0, 30.0, 250.0)  # the task frame's origin in the arm's base frame (mm)


def config(**overrides):
    return XArmConfig(ip="10.0.0.9", task_origin_mm=ORIGIN, yaw_offset_deg=10.0, control_period_s=0.1,
                      speed_mm_s=1000.0, **overrides)


def arm_at_home(**overrides):
    """A fake arm standing at the task's home (0.537, 0, 0.5) m, gripper yaw 0."""
    home = np.array([537.0, 0.0, 500.0]) + ORIGIN
    api = FakeXArmAPI("10.0.0.9", pose=(*home, 180.0, 0.0, 10.0))
    return XArmGraspArm(config(**overrides), api=api), api


def test_the_fake_has_the_sdks_calls_with_the_sdks_parameters():
    xarm = pytest.importorskip("xarm.wrapper")
    used = ["connect", "disconnect", "clean_warn", "clean_error", "motion_enable", "set_mode", "set_state",
            "get_position", "set_position", "get_gripper_position", "set_gripper_enable", "set_gripper_mode",
            "set_gripper_speed", "set_gripper_position", "get_err_warn_code"]
    for name in used:
        real = inspect.signature(getattr(xarm.XArmAPI, name))
        fake = inspect.signature(getattr(FakeXArmAPI, name))
        assert list(real.parameters) == list(fake.parameters), name
    assert isinstance(inspect.getattr_static(xarm.XArmAPI, "connected"), property)


def test_connect_enables_mode_7_and_reports_the_pose_in_the_task_frame():
    arm, api = arm_at_home()
    arm.connect()
    names = [name for name, _ in api.calls]
    assert names[:9] == ["connect", "clean_warn", "clean_error", "motion_enable", "set_mode", "set_state",
                         "set_gripper_mode", "set_gripper_enable", "set_gripper_speed"]
    assert api.mode == 7 and api.state == 0 and api.enabled and api.gripper_enabled
    position = arm.observe()["position"]
    np.testing.assert_allclose(position, [0.537, 0.0, 0.5, 0.0, 0.0], atol=1e-9)  # yaw 10 deg - offset 10 deg
    spec = arm.spec
    assert [j.name for j in spec.joints] == ["x", "y", "z", "yaw", "gripper"] and spec.action == "position"
    np.testing.assert_allclose(spec.joints[0].max_velocity * spec.control_period_s, 0.12)  # max_step_m
    arm.disconnect()
    assert api.calls[-2:] == [("set_state", {"state": 4}), ("disconnect", {})] and not api.connected


def test_a_goal_becomes_millimetres_and_degrees_and_the_gripper_moves_only_when_it_changes():
    arm, api = arm_at_home()
    arm.connect()
    applied = arm.send_action(np.array([0.6, -0.05, 0.44, math.radians(20), 0.0]))
    name, call = api.calls[-2]
    assert name == "set_position" and call["wait"] is False
    assert call["x"] == pytest.approx(600 - 200) and call["y"] == pytest.approx(-50 + 30) and call["z"] == pytest.approx(440 + 250)
    assert (call["roll"], call["pitch"], call["yaw"]) == (180.0, 0.0, pytest.approx(30.0))
    assert api.calls[-1] == ("set_gripper_position", {"pos": 850, "wait": False})  # first goal: open
    np.testing.assert_allclose(applied, [0.6, -0.05, 0.44, math.radians(20), 0.0])
    arm.send_action(np.array([0.6, -0.05, 0.44, 0.0, 0.2]))
    assert api.calls[-1][0] == "set_position"  # still open: no gripper call
    arm.send_action(np.array([0.6, -0.05, 0.44, 0.0, 0.9]))
    assert api.calls[-1] == ("set_gripper_position", {"pos": 0, "wait": False}) and api.gripper == 0
    assert arm.observe()["position"][4] == 1.0
    arm.disconnect()


def test_terminate_lifts_to_the_workspace_top():
    arm, api = arm_at_home(terminate_joint=True)
    arm.connect()
    assert arm.spec.joints[-1].name == "terminate" and arm.observe()["position"].shape == (6,)
    applied = arm.send_action(np.array([0.6, 0.0, 0.1, 0.0, 1.0, 1.0]))
    call = [c for n, c in api.calls if n == "set_position"][-1]
    assert call["z"] == pytest.approx(560 + 250) and applied[2] == pytest.approx(0.56)
    arm.disconnect()


def test_nan_a_controller_error_and_a_pulled_cable_stop_the_arm_with_one_line():
    arm, api = arm_at_home()
    arm.connect()
    with pytest.raises(RobotError, match="refused action .*stopped"):
        arm.send_action(np.array([np.nan, 0, 0.3, 0, 0]))
    assert api.calls[-1] == ("set_state", {"state": 4})
    api.inject_error(31)
    with pytest.raises(RobotError, match=r"set_position returned code 1, controller error C31: the arm is stopped"):
        arm.send_action(np.array([0.6, 0.0, 0.4, 0.0, 0.0]))
    arm.disconnect()
    arm, api = arm_at_home()
    arm.connect()
    api.unplug()
    with pytest.raises(RobotError, match="connection lost"):
        arm.observe()
    assert not arm.is_connected


def test_the_real_sdk_with_no_arm_at_the_address_is_one_line():
    pytest.importorskip("xarm.wrapper")
    arm = XArmGraspArm(XArmConfig(ip="127.0.0.1"))  # the real XArmAPI; nothing listens on port 502 here
    with pytest.raises(RobotError, match="xArm at 127.0.0.1 unreachable"):
        arm.connect()


def test_bad_config_files_are_one_line(tmp_path):
    path = tmp_path / "xarm.json"
    with pytest.raises(UserError, match="not found"):
        make_robot(f"xarm:{path}")
    XArmConfig(ip="10.0.0.9").save(str(path))
    assert make_robot(f"xarm:{path}").config.ip == "10.0.0.9"
    path.write_text(json.dumps({"ip": "10.0.0.9", "speed_mm_s": 5000}))
    with pytest.raises(UserError, match="speed_mm_s must be in"):
        make_robot(f"xarm:{path}")
    path.write_text(json.dumps({"ip": "10.0.0.9", "gripper_opn": 800}))
    with pytest.raises(UserError, match="unknown key.*gripper_opn"):
        make_robot(f"xarm:{path}")
    result = run_cli("serve", "--robot", f"xarm:{tmp_path / 'none.json'}", "--max-periods", "1")
    assert result.returncode == 2 and "xarm config" in result.stderr and "Traceback" not in result.stderr


def test_served_through_the_bridge_goals_are_clamped_then_reach_the_sdk_and_a_silent_client_makes_it_hold():
    arm, api = arm_at_home()
    server = RobotServer(arm, "tcp://127.0.0.1:0", safety=SafetyConfig(hold_after=3, stop_after=50))
    thread = server.start()
    client = RobotClient(server.bound_address, arm.spec.hash(), timeout_s=5.0)
    try:
        state = client.connect()
        np.testing.assert_allclose(state.arrays["position"][:3], [0.537, 0.0, 0.5], atol=1e-6)
        client.send_goal(np.array([0.9, 0.0, 0.5, 0.0, 0.0]))  # 36 cm away and outside the box
        state = client.recv_state(answering=client.last_goal_seq)
        applied = state.arrays["applied"]
        assert applied[0] == pytest.approx(0.537 + 0.12)  # one period's travel (max_step_m), inside the box
        sent = [c for n, c in api.calls if n == "set_position"]
        assert any(c["x"] == pytest.approx((0.537 + 0.12) * 1e3 - 200) for c in sent)
        assert all(c["x"] <= 750 - 200 + 1e-6 for c in sent)  # never beyond the box's x high
        time.sleep(0.6)  # six periods without a goal: the server holds at the measured pose
        assert server.safety.mode in ("hold", "holding")
        held = [c for n, c in api.calls if n == "set_position"][-1]
        measured = arm.observe()["position"]
        assert held["x"] == pytest.approx(measured[0] * 1e3 - 200, abs=2.0)
    finally:
        client.close()
        server.stop()
        thread.join(5)
    assert ("disconnect", {}) in api.calls  # shutdown: hold, park, release


def test_the_spec_is_what_export_takes(tmp_path):
    spec = xarm_spec(config())
    from sensorimotor.hardware.spec import RobotSpec

    assert RobotSpec.from_dict(json.loads(json.dumps(spec.to_dict()))).hash() == spec.hash()
