"""The grasping world's arm served over the bridge: a Cartesian spec whose safety layer keeps every
goal inside the tray's workspace, camera frames with each state, and a grasp driven over loopback."""

import numpy as np
import pytest

pytest.importorskip("pybullet")

from sensorimotor.hardware.client import RobotClient  # noqa: E402
from sensorimotor.hardware.registry import make_robot  # noqa: E402
from sensorimotor.hardware.safety import SafetyConfig  # noqa: E402
from sensorimotor.hardware.server import RobotServer  # noqa: E402
from sensorimotor.hardware.sim_arm import TRAVEL_LIMIT_PER_TASK_STEP  # noqa: E402
from sensorimotor.sim.pybullet.grasping.scene import WORKSPACE_HIGH, WORKSPACE_LOW  # noqa: E402


@pytest.fixture
def served_arm(request):
    robot = make_robot(f"sim-arm:{getattr(request, 'param', 'KukaGraspCube-v0')}", seed=3)
    server = RobotServer(robot, "tcp://127.0.0.1:0", safety=SafetyConfig(hold_after=50, stop_after=200),
                         lockstep=True)
    thread = server.start()
    client = RobotClient(server.bound_address, robot.spec.hash(), timeout_s=5.0)
    yield robot, client
    client.close(say_bye=False)
    server.stop()
    thread.join(5)
    robot.close()


def inside_box(position, tolerance=1e-6):
    return np.all(position[:3] >= np.array(WORKSPACE_LOW) - tolerance) and \
        np.all(position[:3] <= np.array(WORKSPACE_HIGH) + tolerance)


def test_the_spec_is_cartesian_with_the_trays_workspace_and_twice_the_tasks_step_as_limits():
    robot = make_robot("sim-arm:KukaGrasp-v0")
    spec = robot.spec
    assert [j.name for j in spec.joints] == ["x", "y", "z", "yaw", "gripper", "terminate"]  # the qtopt layout
    assert spec.action == "position"
    assert [j.name for j in make_robot("sim-arm:KukaGraspAuto-v0").spec.joints] == ["x", "y", "z", "yaw", "gripper"]
    assert spec.workspace_low == tuple(WORKSPACE_LOW) and spec.workspace_high == tuple(WORKSPACE_HIGH)
    step = np.array([j.max_velocity for j in spec.joints]) * spec.control_period_s
    np.testing.assert_allclose(step[:4], np.array([0.06, 0.06, 0.06, 0.25]) * TRAVEL_LIMIT_PER_TASK_STEP)  # task steps
    assert spec.cameras[0].height == 64
    robot.close()


@pytest.mark.parametrize("served_arm", ["KukaGrasp-v0"], indirect=True)
def test_a_goal_outside_the_workspace_is_clamped_and_the_arm_stays_inside(served_arm):
    """The qtopt layout (15 steps, gripper and terminate commanded): 13 goals far outside the box."""
    robot, client = served_arm
    state = client.connect()
    start = state.arrays["position"].copy()
    assert inside_box(start) and state.arrays["camera"].shape == (64, 64, 3) and start.shape == (6,)
    far = np.array([2.0, -3.0, -1.0, 0.0, 0.0, 0.0])  # far outside the box, below the table
    state = client.step(far)
    applied = state.arrays["applied"]
    assert np.all(np.abs(applied[:3] - start[:3]) <= 0.06 * TRAVEL_LIMIT_PER_TASK_STEP + 1e-6)  # task steps of 6 cm
    assert any("clamped" in e for e in client.event_log) and any("rate limited" in e for e in client.event_log)
    for _ in range(12):
        state = client.step(far)
        # Goals stay inside exactly; the measured pose may overshoot a full-speed move by the servo's
        # lag (measured: 1.3 cm at two task steps per period, none at one).
        assert inside_box(state.arrays["applied"]) and inside_box(state.arrays["position"], tolerance=0.02)
    np.testing.assert_allclose(state.arrays["position"][:3], [WORKSPACE_HIGH[0], WORKSPACE_LOW[1], WORKSPACE_LOW[2]],
                               atol=0.01)  # pinned to the box's corner, not beyond it
    assert not np.array_equal(state.arrays["camera"], client.last_state.arrays["camera"] * 0)  # frames stream


def test_a_scripted_grasp_through_the_bridge_lifts_the_cube(served_arm):
    """Goals computed from the sim's ground truth, sent as a client would: over the cube, then down;
    at the task's grasp height the arm grasps and lifts by itself (the ``auto`` layout), the episode
    ends with reward 1 and the arm holds until the next episode."""
    from sensorimotor.sim.pybullet.grasping.scripted import grasp_height, grasp_yaw

    robot, client = served_arm
    state = client.connect()
    truth = robot.task.privileged()
    cube, box = truth["object_positions"][0], truth["object_boxes"][0]
    yaw = grasp_yaw(float(truth["object_yaws"][0]))
    frames = [state.arrays["camera"].copy()]
    assert grasp_height(box) < 0.12  # the task grasps by itself on the way down (its auto_grasp_height)
    plan = [(cube[0], cube[1], 0.35, yaw, 0.0)] * 3 + [(cube[0], cube[1], 0.35 - 0.06 * k, yaw, 0.0) for k in range(1, 6)]
    for goal in plan:
        state = client.step(np.array(goal))
        frames.append(state.arrays["camera"].copy())
        if state.terminated:
            break
    assert state.terminated and state.arrays["step"][0] < 8  # the grasp ended it, not the step limit
    assert state.arrays["lifted"][0] == 1.0 and state.arrays["reward"][0] == 1.0
    assert state.arrays["episode_return"][0] == 1.0 and robot.episode_successes == [True]
    assert state.arrays["position"][4] == 1.0 and state.arrays["position"][2] > 0.25
    held = state.arrays["position"].copy()
    state = client.step(np.array([cube[0], cube[1], 0.5, yaw, 0.0]))  # after the end: the arm holds
    assert state.arrays["reward"][0] == 0.0 and state.terminated
    np.testing.assert_allclose(state.arrays["position"][:3], held[:3], atol=0.01)
    changed = np.abs(frames[-1].astype(int) - frames[0].astype(int)).max(axis=2)
    assert (changed > 30).sum() > 20  # the camera saw the arm (and the cube) move
