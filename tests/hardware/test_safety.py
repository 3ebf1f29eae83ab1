"""The safety layer's arithmetic against numbers worked out by hand, and its state machine."""

import numpy as np
import pytest

from sensorimotor.hardware.robot import MockRobot, planar_arm_spec
from sensorimotor.hardware.safety import GoalRejected, SafetyConfig, SafetyLayer
from sensorimotor.hardware.spec import JointSpec, RobotSpec


def layer(**config):
    spec = planar_arm_spec(period_s=0.01)  # limits +-2.5 rad, 3 rad/s -> 0.03 rad per period
    return SafetyLayer(spec, SafetyConfig(**config) if config else SafetyConfig(), MockRobot(spec).forward_kinematics)


def test_clamp_then_rate_limit_against_measured_position():
    s = layer()
    command, events = s.filter(np.array([0.02, 3.0]), measured=np.array([0.0, 2.49]))
    # joint 0: 0.02 inside limits and within 0.03 of 0.0; joint 1: 3.0 -> 2.5 (limit), 2.49 + 0.03 = 2.52 > 2.5
    np.testing.assert_allclose(command, [0.02, 2.5])
    assert events == ["clamped to joint limits"]
    command, events = s.filter(np.array([0.1, 0.0]), measured=np.array([0.0, 0.0]))
    np.testing.assert_allclose(command, [0.03, 0.0])
    assert events == ["rate limited"]


def test_a_repeated_velocity_command_is_checked_against_the_limits_again():
    joints = (JointSpec("a", lower=-1.0, upper=1.0, max_velocity=0.5),)
    spec = RobotSpec(name="velocity-joint", joints=joints, action="velocity", control_period_s=0.01,
                     observation=(("position", 1),), park=(0.0,))
    s = SafetyLayer(spec)
    command, _ = s.filter(np.array([0.4]), measured=np.array([0.0]), position=np.array([0.99]))
    # 0.01 rad of room in one 0.01 s period: at most 1 rad/s, so 0.4 rad/s passes as it is
    np.testing.assert_allclose(command, [0.4])
    # no new goal; the joint has moved to 0.998: at most (1 - 0.998) / 0.01 = 0.2 rad/s
    np.testing.assert_allclose(s.repeat_command(np.array([0.998])), [0.2])
    # at the limit: the repeated command stops the joint, and stays stopped once back inside
    np.testing.assert_allclose(s.repeat_command(np.array([1.0])), [0.0])
    np.testing.assert_allclose(s.repeat_command(np.array([0.5])), [0.0])


def test_workspace_keeps_the_end_effector_in_the_box():
    s = layer()
    s.max_step[:] = 10.0  # isolate the workspace check
    # At q = (0, 0) the hand is at x = 0.55 (links 0.3 + 0.25). q0 = pi/2 puts it at y = 0.55 > 0.5.
    command, events = s.filter(np.array([np.pi / 2, 0.0]), measured=np.array([0.0, 0.0]))
    assert events == ["kept inside the workspace"]
    hand = s.fk(command)
    assert hand[1] <= 0.5 and hand[1] > 0.49  # the farthest point inside, not a stop short of it
    assert 0 < command[0] < np.pi / 2 and command[1] == 0.0


@pytest.mark.parametrize("action, match", [
    (np.array([np.nan, 0.0]), "NaN"), (np.array([np.inf, 0.0]), "NaN"), (np.array([0.0]), "shape"),
    (np.array([1, 2], np.int64), "dtype"), (np.array([1e9, 0.0]), "garbage"), (None, "no 'action'"),
])
def test_bad_goals_are_rejected(action, match):
    with pytest.raises(GoalRejected, match=match):
        layer().check_goal(action, seq=1, expires_at=10.0, now=0.0)


def test_stale_duplicate_and_reordered_goals_are_rejected():
    s = layer()
    s.check_goal(np.zeros(2), seq=5, expires_at=1.0, now=0.5)
    for seq in (5, 4):
        with pytest.raises(GoalRejected, match="not newer"):
            s.check_goal(np.zeros(2), seq=seq, expires_at=1.0, now=0.5)
    with pytest.raises(GoalRejected, match="expired"):
        s.check_goal(np.zeros(2), seq=6, expires_at=1.0, now=1.001)


def test_watchdog_holds_then_stops_and_reset_reseeds_from_the_measured_pose():
    s = layer(hold_after=2, stop_after=4)
    s.check_goal(np.zeros(2), 1, 1.0, 0.0)
    s.filter(np.array([0.01, 0.0]), np.zeros(2))
    assert s.mode == "active"
    assert s.tick_missed() is None
    assert "hold" in s.tick_missed() and s.mode == "hold"
    s.tick_missed()
    assert "stopped" in s.tick_missed() and s.mode == "stopped" and not s.accepts_goals
    s.tick_missed()
    assert s.mode == "stopped"  # latched: time alone does not clear it
    s.reset(np.array([0.4, -0.2]))
    np.testing.assert_allclose(s.hold_command(np.zeros(2)), [0.4, -0.2])
    command, _ = s.filter(np.array([2.0, 2.0]), measured=np.array([0.4, -0.2]))
    np.testing.assert_allclose(command, [0.43, -0.17])  # the first goal after reset cannot jump


def test_estop_latches_until_reset():
    s = layer()
    s.estop("button")
    assert s.mode == "stopped" and "button" in s.reason
    s.reset(np.zeros(2))
    assert s.mode == "hold" and s.accepts_goals
