"""End to end on loopback: a PPO policy trained here, exported, served and deployed through the
bridge reaches the return of in-process evaluation; the CLI's bad inputs fail in one line."""

import json

import numpy as np
import pytest

from sensorimotor.hardware.deploy import DeployArgs, ReplayArgs, deploy, replay
from sensorimotor.hardware.recording import read_recording
from sensorimotor.hardware.remote_env import RemoteRobotEnv
from sensorimotor.hardware.server import RobotServer
from sensorimotor.hardware.sim_robot import SimRobot
from tests.helpers import run_cli
from tests.policies.test_export import train_tiny


@pytest.fixture(scope="module")
def pendulum_run(tmp_path_factory):
    return train_tiny(tmp_path_factory.mktemp("deploy"), "Pendulum-v1")


def serve(lockstep=True, seed=0):
    robot = SimRobot("Pendulum-v1", seed=seed)
    server = RobotServer(robot, "tcp://127.0.0.1:0", lockstep=lockstep)
    return robot, server, server.start()


def test_deployed_policy_matches_in_process_evaluation(pendulum_run, tmp_path):
    result = run_cli("evaluate", pendulum_run, "--episodes", "1", "--seed", "0", timeout=300)
    assert result.returncode == 0, result.stderr
    expected = json.loads(result.stdout)["return_mean"]
    robot, server, thread = serve()
    try:
        summary = deploy(DeployArgs(pendulum_run, robot=server.bound_address, episodes=1, hz=500,
                                    record=str(tmp_path / "ep.smrec")))
    finally:
        server.stop()
        thread.join(5)
    assert summary["episodes"] == 1 and summary["steps"] == 200
    assert summary["returns"][0] == pytest.approx(expected, rel=0.02, abs=2.0)
    assert summary["goals_rejected"] == 0
    records = list(read_recording(summary["recording"]))
    steps = [r for r in records if r["kind"] == "step"]
    assert records[0]["robot"]["name"] == "sim:Pendulum-v1" and len(steps) == 200
    assert records[-1]["kind"] == "episode_end" and records[-1]["arrays"]["state/truncated"][0] == 1
    # Each state reports what the previous goal applied; the episode's final state answers the last one.
    applied = np.array([r["arrays"]["state/applied"] for r in steps[1:] + [records[-1]]])
    sent = np.array([r["arrays"]["action"] for r in steps])
    np.testing.assert_allclose(applied, sent, atol=1e-6)  # within limits: applied as sent
    assert replay(ReplayArgs(summary["recording"]))["steps"] == 200


@pytest.mark.filterwarnings("ignore::UserWarning")
def test_remote_env_is_a_gymnasium_env():
    robot, server, thread = serve()
    try:
        env = RemoteRobotEnv(server.bound_address, robot.spec.hash())
        from gymnasium.utils.env_checker import check_env

        check_env(env, skip_render_check=True)
        obs, _ = env.reset()
        total, done = 0.0, False
        while not done:
            obs, reward, terminated, truncated, info = env.step(np.zeros(1, np.float32))
            total, done = total + reward, terminated or truncated
        assert robot.episode_returns[-1] == pytest.approx(total, rel=1e-5)
        env.close()
    finally:
        server.stop()
        thread.join(5)


def test_deploy_cli_errors_are_one_line(pendulum_run, tmp_path):
    result = run_cli("deploy", pendulum_run, "--robot", "tcp://127.0.0.1:1", "--timeout-s", "0.3", timeout=120)
    assert result.returncode == 2 and "no answer from the robot server" in result.stderr
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1
    result = run_cli("deploy", str(tmp_path), timeout=120)
    assert result.returncode == 2 and "run `sensorimotor export RUN_DIR` first" in result.stderr
    result = run_cli("deploy", pendulum_run, "--robot", "tcp://10.1.2.3:5555", timeout=120)
    assert result.returncode == 2 and "shared secret" in result.stderr
    other = SimRobot("MountainCarContinuous-v0")
    server = RobotServer(other, "tcp://127.0.0.1:0", lockstep=True)
    thread = server.start()
    try:
        result = run_cli("deploy", pendulum_run, "--robot", server.bound_address, timeout=120)
    finally:
        server.stop()
        thread.join(5)
    assert result.returncode == 2 and "spec hash" in result.stderr
    result = run_cli("replay", str(tmp_path / "none.smrec"), timeout=120)
    assert result.returncode == 2 and "no recording" in result.stderr


def test_corrupt_onnx_file_is_a_clear_error(pendulum_run, tmp_path):
    import shutil

    export = tmp_path / "export"
    shutil.copytree(f"{pendulum_run}/export", export)
    (export / "policy.onnx").write_bytes(b"not an onnx file")
    result = run_cli("deploy", str(export), timeout=120)
    assert result.returncode == 2 and "does not load" in result.stderr


def test_sim_robot_serves_camera_frames_with_each_state():
    robot = SimRobot("HalfCheetah-v5", camera=(48, 64))
    server = RobotServer(robot, "tcp://127.0.0.1:0", lockstep=True)
    thread = server.start()
    try:
        from sensorimotor.hardware.client import RobotClient

        c = RobotClient(server.bound_address, robot.spec.hash(), timeout_s=5.0)
        first = c.connect().arrays["camera"]
        assert first.shape == (48, 64, 3) and first.dtype == np.uint8 and first.std() > 1  # a rendered scene
        assert c.spec.cameras[0].height == 48
        for _ in range(10):
            state = c.step(np.ones(6, np.float32))
        assert state.arrays["camera"].shape == (48, 64, 3) and not np.array_equal(state.arrays["camera"], first)
        c.close()
    finally:
        server.stop()
        thread.join(5)


def test_deploy_side_needs_no_training_dependencies():
    import subprocess
    import sys

    code = ("import sys, sensorimotor.cli, sensorimotor.hardware.deploy, sensorimotor.hardware.runtime, "
            "sensorimotor.hardware.server, sensorimotor.hardware.registry; "
            "loaded = [m for m in ('torch', 'gymnasium', 'mujoco') if m in sys.modules]; "
            "assert not loaded, loaded")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_replay_to_a_bad_or_unserved_address_is_one_line(tmp_path):
    """The hardware layer's own errors reach the CLI as one line and exit code 2, not a traceback."""
    from sensorimotor.hardware.recording import Recorder
    from sensorimotor.hardware.robot import MockRobot

    path = str(tmp_path / "ep.smrec")
    with Recorder(path, {"hz": 50.0, "robot": MockRobot().spec.to_dict()}) as recorder:
        recorder.write({"action": np.zeros(MockRobot().spec.action_size, np.float32)}, t=0.0, step=0, episode=0)
    for address, message in [("nonsense", "must look like tcp://HOST:PORT"),
                             ("tcp://10.0.0.5:5555", "only 127.0.0.1 is served without a shared secret")]:
        result = run_cli("replay", path, "--robot", address, timeout=120)
        assert result.returncode == 2, result.stderr[-2000:]
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0], result.stderr[-2000:]
