"""What an independent hostile client found in the bridge (issue "Hardening"), each reproduced on real
loopback sockets: hostile headers, velocity goals beyond max_velocity, goal + e-stop + reset in one
period, replayed resets, shutdown while e-stopped, clock and sequence poisoning, a flood; then a
10,000-message fuzz of all of them together."""

import subprocess
import sys
import time

import msgpack
import numpy as np
import pytest
import zmq

from sensorimotor.hardware import protocol, transport
from sensorimotor.hardware.client import RobotClient
from sensorimotor.hardware.protocol import Message
from sensorimotor.hardware.robot import MockRobot
from sensorimotor.hardware.safety import SafetyConfig
from sensorimotor.hardware.server import RobotServer
from sensorimotor.hardware.spec import JointSpec, RobotSpec
from tests.helpers import REPO

SECRET = b"0123456789abcdef0123456789abcdef"


def velocity_spec() -> RobotSpec:
    joints = (JointSpec("a", lower=-1.0, upper=1.0, max_velocity=0.5), JointSpec("b", lower=-1.0, upper=1.0,
                                                                               max_velocity=0.5))
    return RobotSpec(name="velocity-arm", joints=joints, action="velocity", control_period_s=0.01,
                     observation=(("position", 2), ("velocity", 2)), park=(0.0, 0.0))


@pytest.fixture
def serve():
    """``serve(robot, **server_kwargs) -> (server, client)``; everything stopped at the end."""
    started = []

    def start(robot, **kwargs):
        kwargs.setdefault("safety", SafetyConfig(hold_after=3, stop_after=50))
        server = RobotServer(robot, "tcp://127.0.0.1:0", **kwargs)
        thread = server.start()
        client = RobotClient(server.bound_address, robot.spec.hash(), secret=kwargs.get("secret"), timeout_s=2.0)
        started.append((server, thread, client))
        return server, client

    yield start
    for server, thread, client in started:
        client.close(say_bye=False)
        server.stop()
        thread.join(5)


def raw_header(header: dict, *payload: bytes, secret: bytes | None = None) -> list[bytes]:
    frames = [msgpack.packb(header, use_bin_type=True), *payload]
    if secret is not None:
        frames.append(protocol._mac(secret, frames))
    return frames


def hostile_headers(session: str) -> list[list[bytes]]:
    base = {"v": 1, "session": session, "seq": 10**6, "t": time.monotonic()}
    return [
        raw_header({**base, "type": ["goal"]}),
        raw_header({**base, "type": {"goal": 1}}),
        raw_header({**base, "type": "goal", "arrays": [["action", ["float32"], [2]]]}, b"\0" * 8),
        raw_header({**base, "type": "goal", "arrays": [["action", {"f": 4}, [2]]]}, b"\0" * 8),
        raw_header({**base, "type": "goal", "session": msgpack.ExtType(7, b"x")}),
        raw_header({**base, "type": "goal", "expires": msgpack.ExtType(1, b"\0" * 8)}),
        raw_header({**base, "v": [1], "type": "goal"}),
        raw_header({**base, "type": "goal", "session": ["a"]}),
        raw_header({**base, "type": "goal", "seq": "5"}),
        raw_header({**base, "type": "goal", "t": [1.0]}),
        raw_header({**base, "type": "goal", "arrays": "action"}),
        raw_header({**base, "type": "hello", "spec_hash": ["x"]}),
        [b"\xc1\xc1\xc1"],
    ]


def test_hostile_headers_are_counted_and_never_end_the_server(serve):
    robot = MockRobot()
    server, client = serve(robot)
    client.connect()
    client.step(np.array([0.1, 0.0]))
    attacker = zmq.Context.instance().socket(zmq.DEALER)
    attacker.connect(server.bound_address)
    frames = hostile_headers(client.session)
    for f in frames:
        attacker.send_multipart(f)  # any local process, no secret needed
        client._sock.send_multipart(f)  # and from the driving client's own socket
    time.sleep(0.2)
    attacker.close(linger=0)
    state = client.step(np.array([0.2, 0.0]))  # the server is alive and still driving
    assert state.mode == "active"
    assert server.stats.bad_messages >= 2 * (len(frames) - 1)


def test_velocity_goals_are_held_to_max_velocity_and_the_position_limits(serve):
    robot = MockRobot(spec=velocity_spec())
    server, client = serve(robot)
    client.connect()
    rng = np.random.default_rng(0)
    for _ in range(50):
        client.step(rng.choice([-1, 1], 2) * rng.uniform(1.0, 2.9, 2))
    applied = np.abs(np.array(robot.applied))
    assert applied.max() <= 0.5 + 1e-12  # before: 1.0-2.9 rad/s reached the driver
    # Driven hard against the upper limit: once there, no command pushes further out.
    for _ in range(400):
        client.step(np.array([2.0, 2.0]))
    positions, commands = np.array(robot.position_at_apply), np.array(robot.applied)
    at_limit = positions[:-1] >= 1.0 - 1e-9
    assert at_limit.any() and np.all(commands[1:][at_limit] <= 1e-12)


def test_goal_estop_and_reset_in_one_period_leave_no_goal_to_execute(serve):
    for trial in range(6):
        robot = MockRobot()
        server, client = serve(robot)
        client.connect()
        client.step(np.array([0.0, 0.0]))
        # Within one 10 ms period: a goal far away, an e-stop, a reset. Nothing may move after the reset.
        client.send_goal(np.array([2.0, -2.0]), ttl_s=1.0)
        client._send("estop", reason="burst")
        client.reset()
        at_reset = robot._position.copy()
        time.sleep(0.15)
        moved = np.abs(robot._position - at_reset).max()
        assert moved < 1e-9, f"trial {trial}: moved {moved} rad after the reset with no new goal"


def test_a_replayed_reset_does_not_release_a_latched_estop(serve):
    robot = MockRobot()
    server, client = serve(robot, secret=SECRET)
    client.connect()
    client.step(np.array([0.0, 0.0]))
    client.estop("first")
    now = time.monotonic()
    client._seq += 1
    reset_frames = protocol.encode(Message("reset", client.session, client._seq, now, {"expires": now + 1.0}), SECRET)
    client._sock.send_multipart(reset_frames)  # a valid reset with a valid HMAC, kept as it went on the wire
    assert client.recv_state(answering=client._seq).mode == "hold"
    assert client.estop("second").mode == "stopped"
    client._sock.send_multipart(reset_frames)  # replayed
    time.sleep(0.1)
    state = client.recv_state(timeout_s=0.5)
    assert state.mode == "stopped" and any("reset" in e and "rejected" in e for e in client.event_log)
    assert client.reset().mode == "hold"  # a fresh reset still works


def test_shutdown_while_estopped_holds_instead_of_parking(serve):
    robot = MockRobot()
    server, client = serve(robot)
    client.connect()
    for _ in range(60):
        client.step(np.array([0.6, -0.5]))
    client.estop("operator")
    before = robot._position.copy()
    server.stop()
    time.sleep(0.3)
    assert np.abs(robot._position - before).max() < 1e-9  # before: moved 0.30-0.52 rad towards park
    assert "shutdown: e-stop latched, not parking" in server.stats.events
    assert server.stats.events[-1] == "shutdown: released"


def test_sigterm_while_estopped_holds_on_the_served_robot():
    proc = subprocess.Popen([sys.executable, "-m", "sensorimotor", "serve", "--robot", "mock", "--address",
                             "tcp://127.0.0.1:5743"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            cwd=REPO)
    try:
        for line in proc.stdout:
            if line.startswith("serving"):
                break
        client = RobotClient("tcp://127.0.0.1:5743", MockRobot().spec.hash(), timeout_s=2.0)
        client.connect()
        for _ in range(30):
            client.step(np.array([0.5, -0.4]))
        client.estop("test")
        client.close(say_bye=False)
        proc.terminate()
        out, _ = proc.communicate(timeout=20)
    finally:
        proc.kill()
    assert "e-stop latched, not parking" in out and "shutdown: released" in out


@pytest.mark.parametrize("poison", ["clock", "sequence", "expiry"])
def test_one_poisoned_message_cannot_wedge_the_session(serve, poison):
    robot = MockRobot()
    server, client = serve(robot)
    client.connect()
    client.step(np.array([0.0, 0.0]))
    now = time.monotonic()
    seq = {"sequence": 2**64 - 1}.get(poison, client._seq + 1)
    t = 1e15 if poison == "clock" else now
    expires = 1e15 if poison == "expiry" else now + 1.0
    transport.send(client._sock, Message("goal", client.session, seq, t, {"expires": expires},
                                         {"action": np.array([2.0, 2.0])}), None)
    if poison != "sequence":
        client._seq = seq
    time.sleep(0.05)
    for _ in range(20):  # the session goes on: goals are accepted and move the arm
        state = client.step(np.array([0.3, 0.3]))
    assert state.mode == "active" and state.arrays["applied"][0] == pytest.approx(0.3)
    assert robot.applied and max(abs(np.array(robot.applied)[:, 0])) < 2.0 - 1e-9  # the poisoned goal never ran


def test_fuzz_10000_hostile_messages_leave_the_motors_safe_and_the_server_alive(serve):
    """Hostile headers, velocity goals beyond the limits, goal/e-stop/reset bursts, replayed resets,
    clock and sequence poisoning and garbage, 10,000 messages with valid goals between them."""
    robot = MockRobot(spec=velocity_spec())
    server, client = serve(robot, safety=SafetyConfig(hold_after=3, stop_after=25))
    client.connect()
    rng = np.random.default_rng(1)
    attacker = zmq.Context.instance().socket(zmq.DEALER)
    attacker.connect(server.bound_address)
    replay = None
    sent = 0
    while sent < 10_000:
        kind = rng.integers(8)
        now = time.monotonic()
        if kind == 0:
            for f in hostile_headers(client.session):
                (attacker if rng.random() < 0.5 else client._sock).send_multipart(f)
                sent += 1
        elif kind == 1:  # velocity goals far beyond max_velocity, NaN among them
            action = rng.uniform(-50, 50, 2)
            if rng.random() < 0.2:
                action[rng.integers(2)] = np.nan
            client.send_goal(action)
            sent += 1
        elif kind == 2:  # a goal, an e-stop and a reset within one period
            client.send_goal(rng.uniform(-3, 3, 2), ttl_s=1.0)
            client._send("estop", reason="fuzz")
            seq = client._send("reset", expires=now + 1.0, t=now)
            replay = Message("reset", client.session, seq, now, {"expires": now + 1.0})
            sent += 3
        elif kind == 3 and replay is not None:  # a replayed reset
            transport.send(client._sock, replay, None)
            sent += 1
        elif kind == 4:  # clock and sequence poisoning from the session's own client
            poisoned = Message("goal", client.session, 2**64 - 1 if rng.random() < 0.5 else client._seq + 1,
                               float(rng.choice([1e15, now])), {"expires": float(rng.choice([1e15, now + 1.0]))},
                               {"action": rng.uniform(-3, 3, 2)})
            transport.send(client._sock, poisoned, None)
            sent += 1
        elif kind == 5:
            attacker.send_multipart([bytes(rng.integers(0, 256, int(rng.integers(1, 64)), dtype=np.uint8))])
            sent += 1
        else:  # valid goals, within and beyond the limits
            client.send_goal(rng.uniform(-0.6, 0.6, 2))
            sent += 1
        if sent % 50 < 3:
            time.sleep(0.005)  # let the loop tick between bursts
    time.sleep(0.5)  # the server works through what is queued (at most 64 messages a period)
    attacker.close(linger=0)
    applied = np.array(robot.applied)
    assert len(applied) > 50 and np.all(np.isfinite(applied))
    assert np.abs(applied).max() <= 0.5 + 1e-12  # never beyond max_velocity
    positions = np.array(robot.position_at_apply)
    assert np.all(positions >= -1.0 - 1e-9) and np.all(positions <= 1.0 + 1e-9)
    assert server.stats.bad_messages > 1000
    client.reset()
    assert client.step(np.array([0.1, 0.1])).mode == "active"  # alive and drivable at the end
