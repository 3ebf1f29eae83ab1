"""A grasp policy on the bridge: the task's delta actions become the served arm's absolute goals
(``GraspGoals``), episodes end and score as in process, and a trained QT-Opt run goes through
``export`` and ``deploy`` to the arm served on loopback."""

import json
import os
import shutil

import numpy as np
import pytest

pytest.importorskip("pybullet")
pytest.importorskip("onnxruntime")

from sensorimotor.envs import make  # noqa: E402
from sensorimotor.hardware.client import RobotClient  # noqa: E402
from sensorimotor.hardware.grasp_goals import GraspGoals, grasp_goals_section  # noqa: E402
from sensorimotor.hardware.recording import read_recording  # noqa: E402
from sensorimotor.hardware.safety import SafetyConfig  # noqa: E402
from sensorimotor.hardware.server import RobotServer  # noqa: E402
from sensorimotor.hardware.sim_arm import SimGraspArm  # noqa: E402
from sensorimotor.sim.pybullet.grasping.scene import WORKSPACE_HIGH, WORKSPACE_LOW  # noqa: E402
from tests.helpers import run_cli  # noqa: E402


@pytest.fixture(scope="module")
def qtopt_run(tmp_path_factory):
    """A QT-Opt run on the cube (smoke preset: seconds), trained once for this file's tests."""
    run = str(tmp_path_factory.mktemp("qtopt") / "run")
    result = run_cli("train", "qtopt", "--env", "KukaGraspCube-v0", "--preset", "smoke", "--run-dir", run, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    return run


def copy_of(run, tmp_path):
    target = str(tmp_path / "run")
    shutil.copytree(run, target)
    return target


def serve(robot):
    server = RobotServer(robot, "tcp://127.0.0.1:0", safety=SafetyConfig(hold_after=50, stop_after=400), lockstep=True)
    return server, server.start()


class ScriptedOnServedArm:
    """The scripted grasper reading the served simulation's ground truth (test only: a learned policy
    sees the camera); its actions are the task's, so they go through GraspGoals like a policy's."""

    def __init__(self, task):
        self.task, self.observations = task, []

    def reset(self):
        pass

    def __call__(self, obs):
        self.observations.append(obs)
        return self.task.expert_action()


def test_goal_arithmetic_by_hand():
    """Descend-each-step layout: action (dx, dy, dyaw) = (0.5, -1, 1) from the pose (0.6, 0, 0.5, 0.1):
    x + 0.5 * 0.06, y - 0.06 clamped at nothing, z - 0.06 always, yaw + 0.25; the state vector is
    (gripper closed, z - floor, steps / max_steps)."""
    goals = {"kind": "grasp_cartesian_deltas", "layout": "auto", "descend_each_step": True, "move_scale_m": 0.06,
             "yaw_scale_rad": 0.25, "max_steps": 8, "floor_z_m": -0.184, "workspace_low": [0.45, -0.15, 0.05],
             "workspace_high": [0.75, 0.25, 0.56]}

    class Fixed:
        def reset(self):
            self.seen = []

        def __call__(self, obs):
            self.seen.append(obs)
            return np.array([0.5, -1.0, 1.0])

    policy = Fixed()
    adapter = GraspGoals(policy, goals)
    arrays = {"position": np.array([0.6, 0.0, 0.5, 0.1, 0.0]), "camera": np.zeros((64, 64, 3), np.uint8)}
    np.testing.assert_allclose(adapter(arrays), [0.63, -0.06, 0.44, 0.35, 0.0])
    # The second step adds to the commanded pose, not to the (lagging) measurement.
    arrays["position"] = np.array([0.62, -0.05, 0.45, 0.3, 0.0])
    np.testing.assert_allclose(adapter(arrays), [0.66, -0.12, 0.38, 0.6, 0.0])
    np.testing.assert_allclose(adapter(arrays)[1], -0.15)  # clamped to the workspace's y low
    np.testing.assert_allclose(policy.seen[1]["state"], [0.0, 0.45 + 0.184, 1 / 8], rtol=1e-6)
    assert policy.seen[0]["pixels"].shape == (3, 64, 64)
    with pytest.raises(ValueError, match="not a grasp policy"):
        GraspGoals(policy, {"kind": "joint_positions"})


def test_the_client_grasps_at_the_tasks_height_and_holds_after_max_steps():
    """For an arm that does not end episodes: at or below ``auto_grasp_height_m`` the gripper closes
    where the commanded pose is (the policy is not asked), then rises to the box's top; after
    ``max_steps`` goals the last one repeats."""
    goals = {"kind": "grasp_cartesian_deltas", "layout": "auto", "descend_each_step": True, "move_scale_m": 0.06,
             "yaw_scale_rad": 0.25, "max_steps": 3, "floor_z_m": -0.184, "workspace_low": [0.45, -0.15, 0.05],
             "workspace_high": [0.75, 0.25, 0.56], "auto_grasp_height_m": 0.12}
    calls = []

    class Still:
        def reset(self):
            pass

        def __call__(self, obs):
            calls.append(obs)
            return np.zeros(3)

    adapter = GraspGoals(Still(), goals)
    camera = np.zeros((64, 64, 3), np.uint8)
    first = adapter({"position": np.array([0.6, 0.0, 0.5, 0.0, 0.0]), "camera": camera})
    np.testing.assert_allclose(first, [0.6, 0.0, 0.44, 0.0, 0.0])
    adapter({"position": np.array([0.6, 0.0, 0.45, 0.0, 0.0]), "camera": camera})
    third = adapter({"position": np.array([0.6, 0.0, 0.39, 0.0, 0.0]), "camera": camera})
    fourth = adapter({"position": np.array([0.6, 0.0, 0.33, 0.0, 0.0]), "camera": camera})
    assert len(calls) == 3 and np.array_equal(third, fourth)  # max_steps = 3: the fourth repeats
    adapter.reset()
    close = adapter({"position": np.array([0.6, 0.0, 0.11, 0.3, 0.0]), "camera": camera})
    np.testing.assert_allclose(close, [0.6, 0.0, 0.11, 0.3, 1.0])
    lift = adapter({"position": np.array([0.6, 0.0, 0.11, 0.3, 1.0]), "camera": camera})
    np.testing.assert_allclose(lift, [0.6, 0.0, 0.56, 0.3, 1.0])
    assert len(calls) == 3  # the grasp asked the policy nothing

    # The cube's rule: the fingers go to the task's grasp height open, close there, then rise.
    cube = GraspGoals(Still(), {**goals, "auto_grasp_target_m": 0.13})
    state = {"position": np.array([0.6, 0.0, 0.1, 0.3, 0.0]), "camera": camera}
    np.testing.assert_allclose(cube(state), [0.6, 0.0, 0.13, 0.3, 0.0])
    np.testing.assert_allclose(cube(state), [0.6, 0.0, 0.13, 0.3, 1.0])
    np.testing.assert_allclose(cube(state), [0.6, 0.0, 0.56, 0.3, 1.0])


def test_the_scripted_grasper_scores_the_same_through_the_bridge_as_in_process():
    """Ten seeds of the cube: in process (the task's own steps) and through the bridge (GraspGoals ->
    absolute goals -> safety layer -> served arm, which grasps and scores by the task's rules)."""
    env_id, seeds = "KukaGraspCube-v0", range(10)
    env = make(env_id)
    in_process = []
    for seed in seeds:
        env.reset(seed=seed)
        done = False
        while not done:
            _, reward, done, _, _ = env.step(env.unwrapped.expert_action())
        in_process.append(reward == 1.0)
    env.close()

    robot = SimGraspArm(env_id, seed=0)
    server, thread = serve(robot)
    client = RobotClient(server.bound_address, robot.spec.hash(), timeout_s=5.0)
    expert = ScriptedOnServedArm(robot.task)
    adapter = GraspGoals(expert, grasp_goals_section(robot.config))
    bridge = []
    try:
        client.connect()
        for seed in seeds:
            state = client.new_episode(seed)
            adapter.reset()
            while not state.terminated:
                goal = adapter(state.arrays)
                assert np.all(goal[:3] >= np.array(WORKSPACE_LOW)) and np.all(goal[:3] <= np.array(WORKSPACE_HIGH))
                state = client.step(goal)
            bridge.append(state.arrays["reward"][0] == 1.0)
    finally:
        client.close()
        server.stop()
        thread.join(5)
        robot.close()
    assert robot.episode_successes == bridge
    assert sum(bridge) >= 7 and sum(in_process) >= 7  # the scripted grasper: 92% on the cube
    assert sum(a == b for a, b in zip(in_process, bridge)) >= 8, (in_process, bridge)
    assert expert.observations[0]["pixels"].shape == (3, 64, 64) and expert.observations[0]["state"][2] == 0.0


def test_a_trained_qtopt_run_exports_and_deploys_to_the_served_arm(qtopt_run, tmp_path):
    run = copy_of(qtopt_run, tmp_path)
    result = run_cli("export", run, "--formats", "onnx")
    assert result.returncode == 0, result.stderr[-2000:]
    manifest = json.load(open(os.path.join(run, "export", "manifest.json")))
    robot = SimGraspArm("KukaGraspCube-v0", seed=5)
    assert manifest["goals"]["kind"] == "grasp_cartesian_deltas" and manifest["robot_spec_hash"] == robot.spec.hash()

    server, thread = serve(robot)
    recording = str(tmp_path / "grasp.smrec")
    try:
        result = run_cli("deploy", run, "--robot", server.bound_address, "--episodes", "3", "--hz", "100",
                         "--record", recording, timeout=300)
    finally:
        server.stop()
        thread.join(5)
        robot.close()
    assert result.returncode == 0, result.stderr[-2000:]
    summary = json.loads(result.stdout[result.stdout.index("{"):])
    assert summary["episodes"] == 3 and set(summary["returns"]) <= {0.0, 1.0}
    assert summary["returns"] == [float(s) for s in robot.episode_successes]
    steps = [r for r in read_recording(recording) if r.get("kind") == "step"]
    actions = np.stack([r["arrays"]["action"] for r in steps])
    assert actions.shape[1] == 5 and np.all(np.isfinite(actions)) and 3 <= len(steps) <= 3 * 8
    assert np.all(actions[:, :3] >= np.array(WORKSPACE_LOW) - 1e-9) and np.all(actions[:, :3] <= np.array(WORKSPACE_HIGH) + 1e-9)
    # Every episode descends one task step (6 cm) per goal from where it starts.
    first = [r for r in steps if r["step"] == 0][0]
    assert first["arrays"]["action"][2] == pytest.approx(first["arrays"]["state/position"][2] - 0.06)


def test_the_arm_spec_for_a_task_that_is_not_grasping_is_one_line(tmp_path):
    run = str(tmp_path / "run")
    assert run_cli("train", "dqn", "--env", "CartPole-v1", "--preset", "smoke", "--run-dir", run,
                   timeout=300).returncode == 0
    result = run_cli("export", run, "--formats", "onnx", "--robot-spec", "sim-arm")
    assert result.returncode == 2 and "sim-arm is for the grasping tasks" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert not os.path.exists(os.path.join(run, "export", "policy.onnx"))  # checked before anything is written


def test_the_same_policy_deploys_to_an_xarm_with_a_camera_and_grasps_by_the_tasks_rule(qtopt_run, tmp_path):
    """Exported for an xArm's spec (the FakeXArmAPI behind a free-running bridge server, a mock
    camera): the goals descend 6 cm per period, and at the task's grasp height the client closes the
    gripper where it is and lifts to the workspace's top, in millimetres in the arm's frame."""
    from sensorimotor.hardware.xarm import XArmConfig, XArmGraspArm, xarm_spec
    from sensorimotor.hardware.xarm_fake import FakeXArmAPI

    run = copy_of(qtopt_run, tmp_path)
    origin = np.array([-200.0, 30.0, 250.0])
    config = XArmConfig(ip="10.0.0.9", task_origin_mm=tuple(origin), control_period_s=0.1, speed_mm_s=1000.0)
    spec_file = str(tmp_path / "xarm-spec.json")
    json.dump(xarm_spec(config).to_dict(), open(spec_file, "w"))
    result = run_cli("export", run, "--formats", "onnx", "--robot-spec", spec_file)
    assert result.returncode == 0, result.stderr[-2000:]
    api = FakeXArmAPI(pose=(*(np.array([537.0, 0.0, 500.0]) + origin), 180.0, 0.0, 0.0))
    arm = XArmGraspArm(config, api=api)
    server = RobotServer(arm, "tcp://127.0.0.1:0", safety=SafetyConfig(hold_after=5, stop_after=100))
    thread = server.start()
    try:
        refused = run_cli("deploy", run, "--robot", server.bound_address, "--max-steps", "3")  # no camera anywhere
        result = run_cli("deploy", run, "--robot", server.bound_address, "--camera", "mock:48x64@30",
                         "--max-steps", "14", "--hz", "10", "--record", str(tmp_path / "x.smrec"), timeout=300)
    finally:
        server.stop()
        thread.join(5)
    assert refused.returncode == 2 and "serves no camera: pass --camera" in refused.stderr
    assert result.returncode == 0, result.stderr[-2000:]
    heights = [c["z"] - origin[2] for n, c in api.calls if n == "set_position"]
    closes = [i for i, (n, c) in enumerate(api.calls) if n == "set_gripper_position" and c["pos"] == 0]
    assert closes, "the gripper never closed"
    before = [c["z"] - origin[2] for n, c in api.calls[:closes[0]] if n == "set_position"]
    descending = np.diff(before[:5])
    np.testing.assert_allclose(descending[descending < 0], -60.0, atol=1e-6)  # one task step per goal
    assert min(heights) >= 50.0 - 1e-6  # never below the workspace box (0.05 m)
    # Then up toward the box's top with the object: the client asks for 0.56 m, the safety layer lets
    # 12 cm per period through (the server parks the arm at home after the session, 0.5 m).
    # (A free-running server repeats the last goal in periods where none arrived: consecutive equal
    # targets are one. The 12 cm lead is over the *measured* height, so a goal that finds the arm still
    # short of the last target may be a little lower than it: 240, 360, 340, 460 on a loaded host.)
    after_close = [c["z"] - origin[2] for n, c in api.calls[closes[0]:] if n == "set_position"]
    lifting = [z for i, z in enumerate(after_close) if i == 0 or z != after_close[i - 1]][:3]
    assert len(lifting) == 3 and lifting[0] < lifting[1] and min(lifting) == lifting[0], after_close
    assert max(lifting) > 250.0 and np.all(np.diff(lifting) <= 120.0 + 1e-6), after_close
    steps = [r for r in read_recording(str(tmp_path / "x.smrec")) if r.get("kind") == "step"]
    after = [r["arrays"]["action"] for r in steps if r["arrays"]["action"][4] == 1.0]
    assert len(after) >= 2 and after[-1][2] == pytest.approx(0.56)
