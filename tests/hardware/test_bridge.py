"""The bridge on real ZeroMQ loopback sockets: every bad input and fault ends in a safe state, a
clear message, and nothing non-finite or out of limits reaching the (mock) motors."""

import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import zmq

from sensorimotor.hardware.client import RobotClient, RobotRefused, RobotUnreachable
from sensorimotor.hardware.fault_proxy import FaultProxy, Faults
from sensorimotor.hardware.robot import MockRobot
from sensorimotor.hardware.safety import SafetyConfig
from sensorimotor.hardware.server import RobotServer
from sensorimotor.hardware.transport import TransportError


def assert_motors_saw_only_safe_commands(robot):
    applied = np.array(robot.applied)
    assert np.all(np.isfinite(applied)) and np.all(np.abs(applied) <= 2.5)


def test_goals_drive_the_robot_and_state_reports_what_was_applied(served):
    robot, server, client = served
    c = client()
    state = c.connect()
    assert state.mode == "hold" and c.spec.name == "mock-planar-arm"
    for _ in range(30):
        state = c.step(np.array([0.2, -0.1]))
    assert state.mode == "active" and state.rtt_s is not None and 0 < state.rtt_s < 0.5
    np.testing.assert_allclose(state.arrays["position"], [0.2, -0.1], atol=0.02)
    np.testing.assert_allclose(state.arrays["applied"], [0.2, -0.1])


def test_bad_goals_are_rejected_and_never_reach_the_motors(served):
    robot, server, client = served
    c = client()
    c.connect()
    c.step(np.array([0.0, 0.0]))
    bad = [np.array([np.nan, 0.0]), np.array([np.inf, 0.0]), np.array([0.1, 0.2, 0.3]), np.array([1, 2], np.int32),
           np.array([1e12, 0.0]), np.array([[0.1, 0.2]])]
    for action in bad:
        c.send_goal(action)
    c.send_goal(np.array([0.1, 0.1]), ttl_s=-1.0)  # already expired
    time.sleep(0.1)
    c.recv_state(timeout_s=0.1)
    rejected = [e for e in c.event_log if "rejected" in e]
    assert len(rejected) == len(bad) + 1, c.event_log
    assert any("NaN" in e for e in rejected) and any("expired" in e for e in rejected)
    assert server.stats.goals_rejected == len(bad) + 1
    assert_motors_saw_only_safe_commands(robot)


def test_out_of_limit_and_jumping_goals_are_clamped_and_reported(served):
    robot, server, client = served
    c = client()
    c.connect()
    state = c.step(np.array([10.0, 0.0]))
    assert abs(state.arrays["applied"][0]) <= 0.03 + 1e-9  # 3 rad/s * 10 ms from the measured pose
    assert any("clamped" in e for e in c.event_log) and any("rate limited" in e for e in c.event_log)


def test_duplicated_and_reordered_goals_are_dropped(served):
    robot, server, client = served
    c = client()
    c.connect()
    c.step(np.zeros(2))
    from sensorimotor.hardware import protocol, transport

    seq = c.send_goal(np.array([0.01, 0.0]))
    c.recv_state(answering=seq)
    for stale in (seq, seq - 1):  # a duplicate and an older goal, sent raw
        msg = protocol.Message("goal", c.session, stale, time.monotonic(), {"expires": time.monotonic() + 1},
                               {"action": np.array([0.02, 0.0])})
        transport.send(c._sock, msg, None)
    time.sleep(0.05)
    c.recv_state(timeout_s=0.1)
    assert sum("not newer" in e for e in c.event_log) == 2


def test_goals_faster_than_the_loop_keep_only_the_newest(served):
    robot, server, client = served
    c = client()
    c.connect()
    for i in range(50):
        c.send_goal(np.array([0.001 * i, 0.0]))
    state = c.recv_state(answering=c.last_goal_seq)
    assert server.stats.goals_superseded > 0
    assert state.in_reply_to == c.last_goal_seq


def test_wrong_spec_hash_and_second_driver_are_refused(served):
    robot, server, client = served
    with pytest.raises(RobotRefused, match="spec hash"):
        client(spec_hash="0000000000000000").connect()
    client().connect()
    with pytest.raises(RobotRefused, match="busy"):
        client().connect()


def test_client_hang_holds_then_stops_and_needs_an_explicit_reset(served):
    robot, server, client = served
    c = client()
    c.connect()
    for _ in range(5):
        c.step(np.array([0.05, 0.0]))
    time.sleep(0.25)  # silence: > 10 periods of 10 ms
    state = c.recv_state()
    assert state.mode == "stopped" and "no valid goal" in state.reason
    assert any("hold after" in e for e in c.event_log)
    before = len(robot.applied)
    c.send_goal(np.array([1.0, 0.0]))
    time.sleep(0.05)
    assert all(np.allclose(a, robot.applied[before - 1]) for a in robot.applied[before:])  # still holding
    state = c.reset()
    assert state.mode == "hold"
    state = c.step(np.array([1.0, 0.0]))
    assert state.mode == "active" and state.arrays["applied"][0] <= state.arrays["position"][0] + 0.031


def test_client_estop_latches(served):
    robot, server, client = served
    c = client()
    c.connect()
    c.step(np.array([0.1, 0.0]))
    assert c.estop("operator").mode == "stopped"
    c.send_goal(np.array([0.5, 0.0]))
    time.sleep(0.05)
    assert c.recv_state().mode == "stopped"


def test_a_crashed_client_can_be_replaced_after_the_watchdog_stop(served):
    robot, server, client = served
    first = client()
    first.connect()
    first.step(np.zeros(2))
    first.close(say_bye=False)  # crash: no bye
    time.sleep(0.25)
    second = client()
    assert second.connect().mode == "stopped"  # the new driver inherits the latched stop
    assert second.reset().mode == "hold"


def test_unreachable_server_and_server_restart():
    with pytest.raises(RobotUnreachable, match="no answer"):
        RobotClient("tcp://127.0.0.1:1", "x", timeout_s=0.2).connect()
    robot = MockRobot()
    server = RobotServer(robot, "tcp://127.0.0.1:0")
    thread = server.start()
    address = server.bound_address
    c = RobotClient(address, robot.spec.hash(), timeout_s=0.3)
    c.connect()
    server.stop()
    thread.join(5)
    assert not robot.is_connected  # released on the way out
    with pytest.raises(RobotUnreachable, match="no state"):
        c.step(np.zeros(2))
    server = RobotServer(robot, address)
    thread = server.start()
    try:
        assert c.connect().mode == "hold"  # the same client reopens a session on the new server
        assert c.step(np.zeros(2)).mode == "active"
    finally:
        c.close()
        server.stop()
        thread.join(5)


def test_hostile_bytes_from_a_raw_socket_are_dropped(served):
    robot, server, client = served
    raw = zmq.Context.instance().socket(zmq.DEALER)
    raw.setsockopt(zmq.LINGER, 0)
    raw.connect(server.bound_address)
    rng = np.random.default_rng(0)
    for _ in range(200):
        raw.send_multipart([rng.bytes(int(rng.integers(0, 300))) for _ in range(int(rng.integers(1, 4)))])
    raw.send(b"\x00" * (70 * 1024 * 1024))  # beyond the transport's size limit
    time.sleep(0.3)
    raw.close()
    assert server.stats.bad_messages >= 150
    c = client()
    assert c.connect().mode == "hold"  # still serving
    assert_motors_saw_only_safe_commands(robot)


def test_other_addresses_need_a_secret():
    with pytest.raises(TransportError, match="shared secret"):
        RobotServer(MockRobot(), "tcp://0.0.0.0:5999")
    RobotServer(MockRobot(), "tcp://0.0.0.0:5999", secret=b"0123456789abcdef")


def test_secret_mismatch_gets_no_session():
    robot = MockRobot()
    server = RobotServer(robot, "tcp://127.0.0.1:0", secret=b"server-secret-0123")
    thread = server.start()
    try:
        with pytest.raises(RobotUnreachable):
            RobotClient(server.bound_address, robot.spec.hash(), secret=b"client-secret-0123", timeout_s=0.3).connect()
        good = RobotClient(server.bound_address, robot.spec.hash(), secret=b"server-secret-0123")
        assert good.connect().mode == "hold"
        good.close()
    finally:
        server.stop()
        thread.join(5)
    assert server.stats.bad_messages >= 1


def test_an_exception_in_the_loop_still_holds_parks_and_releases():
    class FailingRobot(MockRobot):
        def send_action(self, action):
            if len(self.applied) == 5:
                self.applied.append(np.asarray(action))
                raise RuntimeError("driver fault")
            return super().send_action(action)

    robot = FailingRobot()
    robot.set_position([0.3, 0.0])
    server = RobotServer(robot, "tcp://127.0.0.1:0")
    with pytest.raises(RuntimeError, match="driver fault"):
        server.serve(max_periods=50)
    assert server.stats.events[-3:] == ["shutdown: hold", "shutdown: parked", "shutdown: released"]
    np.testing.assert_allclose(robot.observe()["position"] if robot.is_connected else robot._position, [0, 0], atol=1e-3)
    assert not robot.is_connected


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_signals_shut_the_served_sim_robot_down_safely(sig):
    script = os.path.join(os.path.dirname(__file__), "..", "..", "scripts", "serve_sim_robot.py")
    proc = subprocess.Popen([sys.executable, script, "--env", "Pendulum-v1", "--address", "tcp://127.0.0.1:5718"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        for line in proc.stdout:
            if line.startswith("serving"):
                break
        time.sleep(0.3)
        proc.send_signal(sig)
        out, _ = proc.communicate(timeout=20)
    finally:
        proc.kill()
    assert proc.returncode == 0, out
    assert f"signal {signal.Signals(sig).name}" in out and "shutdown: hold" in out and "shutdown: released" in out


def test_fault_proxy_faults_never_reach_the_motors():
    # Its own server: the shared fixture stops for good after 10 periods (0.1 s) without a valid goal,
    # and on a loaded 2-core machine a stall that long plus the injected losses ended the run early
    # (11 goals applied of 300). 0.5 s keeps the test about faults, not about the scheduler.
    robot = MockRobot()
    server = RobotServer(robot, "tcp://127.0.0.1:0", safety=SafetyConfig(hold_after=3, stop_after=50))
    thread = server.start()
    proxy = FaultProxy(server.bound_address, Faults(delay_s=0.002, jitter_s=0.004, loss=0.1, duplicate=0.1,
                                                    reorder=0.1, corrupt=0.1), seed=1).start()
    try:
        c = RobotClient(proxy.address, robot.spec.hash(), timeout_s=0.5)
        for _ in range(10):
            try:
                c.connect()
                break
            except RobotUnreachable:
                continue
        rng = np.random.default_rng(0)
        for _ in range(300):
            c.send_goal(rng.uniform(-1, 1, 2))
            time.sleep(0.003)
        proxy.disconnect(0.3)
        time.sleep(0.4)
        c.close(say_bye=False)
    finally:
        proxy.stop()
        server.stop()
        thread.join(5)
    assert proxy.counts["corrupted"] > 10 and proxy.counts["duplicated"] > 10 and proxy.counts["reordered"] > 10
    assert server.stats.bad_messages > 0 and server.stats.goals_rejected > 0  # corrupt / stale goals seen and refused
    assert server.stats.goals_applied > 50
    assert server.safety.mode in ("hold", "stopped")  # the disconnect tripped the watchdog
    assert_motors_saw_only_safe_commands(robot)
    lead = np.abs(np.array(robot.applied) - np.array(robot.position_at_apply))
    assert lead.max() <= 0.03 + 1e-9  # never a command beyond the rate limit from the measured pose


def test_fuzz_bad_goals_on_a_live_server_never_reach_the_robot(served):
    """2,000 bad goals (random kinds) interleaved with valid ones: every bad one is rejected, and the
    motors see only finite, in-limit commands that move at most the rate limit per period."""
    from sensorimotor.hardware import protocol, transport

    robot, server, client = served
    c = client()
    c.connect()
    rng = np.random.default_rng(0)
    makers = [
        lambda: rng.uniform(-1, 1, 2) * np.where(rng.random(2) < 0.5, np.nan, 1.0) + np.array([0, np.nan]),
        lambda: np.array([rng.choice([np.inf, -np.inf]), 0.0]),
        lambda: rng.uniform(-1, 1, int(rng.choice([0, 1, 3, 7]))),
        lambda: rng.integers(-5, 5, 2).astype(np.int64),
        lambda: rng.uniform(-1, 1, (2, 2)),
        lambda: np.array([rng.choice([-1, 1]) * 10 ** rng.uniform(3.1, 30), 0.0]),
    ]
    bad_sent = 0
    for i in range(2400):
        if i % 6 == 5:
            # Valid but often out of limits: clamped, rate limited. A long expiry keeps it valid when a
            # busy machine delays it past the default two periods (that rejection is right, but it
            # would make the count below depend on load).
            c.send_goal(rng.uniform(-3, 3, 2), ttl_s=5.0)
        elif i % 50 == 7:  # expired, and one with a sequence number from the past
            c.send_goal(rng.uniform(-1, 1, 2), ttl_s=-0.5)
            msg = protocol.Message("goal", c.session, 1, time.monotonic(), {"expires": time.monotonic() + 5},
                                   {"action": np.zeros(2)})
            transport.send(c._sock, msg, None)
            bad_sent += 2
        else:
            c.send_goal(makers[rng.integers(len(makers))]())
            bad_sent += 1
        if i % 20 == 0:
            time.sleep(0.01)
    time.sleep(0.1)
    assert bad_sent >= 1800
    assert server.stats.goals_rejected == bad_sent
    assert server.stats.goals_applied > 10
    applied = np.array(robot.applied)
    assert np.all(np.isfinite(applied)) and np.all(np.abs(applied) <= 2.5)
    lead = np.abs(applied - np.array(robot.position_at_apply))
    assert lead.max() <= 0.03 + 1e-9  # no command ever led the measured pose by more than 3 rad/s * 10 ms


def test_keyboard_and_sigusr1_estops_latch_on_the_served_sim_robot():
    from sensorimotor.hardware.sim_robot import sim_spec

    script = os.path.join(os.path.dirname(__file__), "..", "..", "scripts", "serve_sim_robot.py")
    address = "tcp://127.0.0.1:5719"
    proc = subprocess.Popen([sys.executable, script, "--env", "Pendulum-v1", "--address", address, "--lockstep",
                             "--keyboard-estop"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    try:
        for line in proc.stdout:
            if line.startswith("keyboard"):
                break
        c = RobotClient(address, sim_spec("Pendulum-v1").hash(), timeout_s=2.0)
        c.connect()
        assert c.step(np.array([0.5], np.float32)).mode == "active"
        proc.stdin.write("\n")
        proc.stdin.flush()
        time.sleep(0.3)
        state = c.step(np.array([0.5], np.float32))
        assert state.mode == "stopped" and "keyboard" in state.reason and "applied" not in state.arrays
        proc.stdin.write("reset\n")
        proc.stdin.flush()
        time.sleep(0.3)
        assert c.step(np.array([0.5], np.float32)).mode == "active"
        proc.send_signal(signal.SIGUSR1)
        time.sleep(0.3)
        assert c.step(np.array([0.5], np.float32)).mode == "stopped"
        c.close()
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=20)
    finally:
        proc.kill()
    assert "e-stop: keyboard" in out and "e-stop: signal SIGUSR1" in out and "shutdown: released" in out
