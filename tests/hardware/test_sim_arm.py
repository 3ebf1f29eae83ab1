"""The grasping world's arm served over the bridge: a Cartesian spec whose safety layer keeps every
goal inside the tray's workspace, camera frames with each state, and a grasp driven over loopback."""

import numpy as np
import pytest

pytest.importorskip("pybullet")

from sensorimotor.hardware.client import RobotClient  # noqa: E402
from sensorimotor.hardware.registry import make_robot  # noqa: E402
from sensorimotor.hardware.safety import SafetyConfig  # noqa: E402
from sensorimotor.hardware.server import RobotServer  # noqa: E402
from sensorimotor.sim.pybullet.grasping.scene import WORKSPACE_HIGH, WORKSPACE_LOW  # noqa: E402


@pytest.fixture
def served_arm():
    robot = make_robot("sim-arm:KukaGraspCube-v0", seed=3)
    server = RobotServer(robot, "tcp://127.0.0.1:0", safety=SafetyConfig(hold_after=50, stop_after=200),
                         lockstep=True)
    thread = server.start()
    client = RobotClient(server.bound_address, robot.spec.hash(), timeout_s=5.0)
    yield robot, client
    client.close(say_bye=False)
    server.stop()
    thread.join(5)
    robot.close()


def inside_box(position):
    return np.all(position[:3] >= np.array(WORKSPACE_LOW) - 0.005) and np.all(position[:3] <= np.array(WORKSPACE_HIGH) + 0.005)


def test_the_spec_is_cartesian_with_the_trays_workspace_and_the_tasks_step_limits():
    robot = make_robot("sim-arm:KukaGrasp-v0")
    spec = robot.spec
    assert [j.name for j in spec.joints] == ["x", "y", "z", "yaw", "gripper"] and spec.action == "position"
    assert spec.workspace_low == tuple(WORKSPACE_LOW) and spec.workspace_high == tuple(WORKSPACE_HIGH)
    step = np.array([j.max_velocity for j in spec.joints]) * spec.control_period_s
    np.testing.assert_allclose(step[:4], [0.06, 0.06, 0.06, 0.25])
    assert spec.cameras[0].height == 64
    robot.close()


def test_a_goal_outside_the_workspace_is_clamped_and_the_arm_stays_inside(served_arm):
    robot, client = served_arm
    state = client.connect()
    start = state.arrays["position"].copy()
    assert inside_box(start) and state.arrays["camera"].shape == (64, 64, 3)
    state = client.step(np.array([2.0, -3.0, -1.0, 0.0, 0.0]))  # far outside the box, below the table
    applied = state.arrays["applied"]
    assert np.all(np.abs(applied[:3] - start[:3]) <= 0.06 + 1e-6)  # one step of 6 cm at most
    assert any("clamped" in e for e in client.event_log) and any("rate limited" in e for e in client.event_log)
    for _ in range(15):
        state = client.step(np.array([2.0, -3.0, -1.0, 0.0, 0.0]))
        assert inside_box(state.arrays["position"]) and inside_box(state.arrays["applied"])
    np.testing.assert_allclose(state.arrays["position"][:3], [WORKSPACE_HIGH[0], WORKSPACE_LOW[1], WORKSPACE_LOW[2]],
                               atol=0.01)  # pinned to the box's corner, not beyond it
    assert not np.array_equal(state.arrays["camera"], client.last_state.arrays["camera"] * 0)  # frames stream


def test_a_scripted_grasp_through_the_bridge_lifts_the_cube(served_arm):
    """Goals computed from the sim's ground truth, sent as a client would: over the cube, down, close,
    up; the state reports the cube lifted."""
    from sensorimotor.sim.pybullet.grasping.scripted import grasp_height, grasp_yaw

    robot, client = served_arm
    state = client.connect()
    truth = robot.task.privileged()
    cube, box = truth["object_positions"][0], truth["object_boxes"][0]
    yaw = grasp_yaw(float(truth["object_yaws"][0]))
    frames = [state.arrays["camera"].copy()]
    plan = [(cube[0], cube[1], 0.35, yaw, 0.0)] * 8 + [(cube[0], cube[1], grasp_height(box), yaw, 0.0)] * 6 + \
           [(cube[0], cube[1], grasp_height(box), yaw, 1.0)] * 4 + [(cube[0], cube[1], 0.4, yaw, 1.0)] * 8
    for goal in plan:
        state = client.step(np.array(goal))
        frames.append(state.arrays["camera"].copy())
    assert state.arrays["lifted"][0] == 1.0
    assert state.arrays["position"][4] == 1.0 and state.arrays["position"][2] > 0.3
    changed = np.abs(frames[-1].astype(int) - frames[0].astype(int)).max(axis=2)
    assert (changed > 30).sum() > 20  # the camera saw the arm (and the cube) move
