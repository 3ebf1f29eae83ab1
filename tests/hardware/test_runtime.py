"""The deploy runtime against a served MockRobot: timing statistics, recording, and faults mid-run
(camera unplugged, server restarted) ending safely with the recording intact."""

import threading
import time

import numpy as np
import pytest

from sensorimotor.hardware.cameras import CameraError, MockCamera
from sensorimotor.hardware.client import RobotClient
from sensorimotor.hardware.policy import OnnxPolicy
from sensorimotor.hardware.recording import Recorder, read_recording
from sensorimotor.hardware.robot import MockRobot
from sensorimotor.hardware.runtime import DeployLoop
from sensorimotor.hardware.server import RobotServer
from sensorimotor.hardware.timing import sleep_until
from tests.hardware.helpers import export_mock_policy


def test_sleep_until_wakes_on_time():
    late = []
    for _ in range(20):
        deadline = time.monotonic() + 0.003
        sleep_until(deadline)
        late.append(time.monotonic() - deadline)
    assert min(late) >= 0 and np.median(late) < 0.001


def test_loop_drives_the_robot_records_every_step_and_reports_timing(served, tmp_path):
    robot, server, client = served
    policy = OnnxPolicy(export_mock_policy(str(tmp_path / "policy"), robot.spec.hash()))
    c = client()
    c.connect()
    recorder = Recorder(str(tmp_path / "run.smrec"), {"hz": 100})
    result = DeployLoop(policy, c, hz=100, recorder=recorder, obs_key="position").run(max_steps=80)
    assert result.steps == 80 and result.stopped_because == "max_steps reached"
    np.testing.assert_allclose(robot.observe()["position"], [0.4, -0.3], atol=0.05)
    t = result.timing
    for key in ("jitter", "latency", "period", "section/observe", "section/policy", "section/send"):
        assert t[key]["n"] >= 70, key
    # A round trip is timed only when the newest state answers a goal; a period in which the server
    # repeated the last command (the goal came late) answers none: 67 of 80 on a loaded 2-core host.
    assert t["rtt"]["n"] >= 40
    # Paced at its rate: not free-running (~0 ms) nor a step late each time (20 ms). The margin is wide
    # because the suite runs 2 workers on 2 cores (1 ms failed once beside two training jobs).
    assert t["period"]["p50_ms"] == pytest.approx(10.0, abs=3.0)
    steps = [r for r in read_recording(recorder.path) if r["kind"] == "step"]
    assert [r["step"] for r in steps] == list(range(80))
    assert steps[-1]["arrays"]["action"].shape == (2,) and steps[-1]["mode"] == "active"


def test_camera_unplugged_mid_run_stops_the_loop_with_the_recording_kept(served, tmp_path):
    robot, server, client = served
    policy = OnnxPolicy(export_mock_policy(str(tmp_path / "policy"), robot.spec.hash(), pixels=True))
    c = client()
    c.connect()
    camera = MockCamera(16, 16, fps=200).start()
    camera.read()
    recorder = Recorder(str(tmp_path / "run.smrec"), {})
    loop = DeployLoop(policy, c, hz=100, camera=camera, frame_max_age_s=0.05, recorder=recorder)
    threading.Timer(0.3, camera.unplug).start()
    with pytest.raises(CameraError, match="unplugged"):
        loop.run(max_steps=1000)
    camera.stop()
    steps = [r for r in read_recording(recorder.path) if r["kind"] == "step"]
    assert 10 < len(steps) < 1000 and [r["step"] for r in steps] == list(range(len(steps)))
    c.close()  # what `deploy` does next: the server holds
    time.sleep(0.05)
    assert server.safety.mode == "hold"


def test_server_restart_mid_run_is_survived(tmp_path, caplog):
    robot = MockRobot()
    server = RobotServer(robot, "tcp://127.0.0.1:0")
    thread = server.start()
    address = server.bound_address
    policy = OnnxPolicy(export_mock_policy(str(tmp_path / "policy"), robot.spec.hash()))
    c = RobotClient(address, robot.spec.hash(), timeout_s=0.3)
    c.connect()
    loop = DeployLoop(policy, c, hz=100, obs_key="position", reconnects=20)

    def restart():
        server.stop()
        thread.join(5)
        time.sleep(1.0)  # down for several client timeouts: reconnect tries fail until it is back
        restarted.append(RobotServer(robot, address))
        restarted[0].start()

    restarted = []
    threading.Timer(0.3, restart).start()
    with caplog.at_level("WARNING", logger="sensorimotor.hardware.runtime"):
        result = loop.run(max_steps=150)
    try:
        assert result.steps == 150
        assert sum("reconnecting" in r.message for r in caplog.records) >= 2
        assert restarted and restarted[0].stats.goals_applied > 20  # the loop carried on with the new server
    finally:
        c.close()
        restarted[0].stop()
