"""The client side of the bridge: a session with a robot server, goals out, states in.

Round-trip time is measured on this side's clock only: each state echoes the send time of the goal
it answers. ``RemoteRobotEnv`` presents a served robot as a Gymnasium env, so an agent can be
evaluated on it like on any other env.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import zmq

from sensorimotor.hardware import protocol, transport
from sensorimotor.hardware.protocol import Message, ProtocolError
from sensorimotor.hardware.spec import RobotSpec


class RobotUnreachable(ConnectionError):
    """No (valid) answer from the server in time."""


class RobotRefused(ConnectionError):
    """The server answered with a refusal (spec hash, busy)."""


@dataclass
class State:
    """One state from the server: ``arrays`` (measurements, ``applied``), ``mode``, ``events`` and
    ``rtt_s`` (None when the state answers no goal)."""

    arrays: dict[str, np.ndarray]
    mode: str
    reason: str
    events: list[str]
    in_reply_to: int
    answers: str
    rtt_s: float | None
    received_at: float
    seq: int = 0
    fields: dict = field(default_factory=dict)

    @property
    def done(self) -> bool:
        return bool(self.terminated or self.truncated)

    @property
    def terminated(self) -> bool:
        return bool(self.arrays.get("terminated", np.zeros(1))[0])

    @property
    def truncated(self) -> bool:
        return bool(self.arrays.get("truncated", np.zeros(1))[0])


class RobotClient:
    """Args:
        address: the server, e.g. ``tcp://127.0.0.1:5555``.
        spec_hash: the policy's robot spec hash; the server refuses a session if it differs.
        secret: shared secret when the server runs with one.
        timeout_s: how long to wait for a reply before :class:`RobotUnreachable`.
        goal_ttl_s: how long a goal stays valid after it is sent (default: two server periods).
    """

    def __init__(self, address: str, spec_hash: str, secret: bytes | None = None, timeout_s: float = 1.0,
                 goal_ttl_s: float | None = None):
        transport.check_address(address, secret)
        self.address, self.spec_hash, self.secret = address, spec_hash, secret
        self.timeout_s = timeout_s
        self.goal_ttl_s = goal_ttl_s
        self.session = ""
        self.spec: RobotSpec | None = None
        self.lockstep = False
        self.episodic = False
        self.event_log: list[str] = []
        self.last_goal_seq = -1
        self.last_state: State | None = None
        self.bad_messages = 0
        self._seq = 0
        self._sock: zmq.Socket | None = None

    def connect(self) -> State:
        """Open a session; returns the first state. Raises :class:`RobotUnreachable` or :class:`RobotRefused`."""
        self.close(say_bye=False)
        self._sock = transport.make_socket(zmq.Context.instance(), zmq.DEALER)
        self._sock.connect(self.address)
        self._send("hello", spec_hash=self.spec_hash)
        deadline = time.monotonic() + self.timeout_s
        while True:
            msg = self._recv(deadline)
            if msg is None:
                self.close(say_bye=False)
                raise RobotUnreachable(f"no answer from the robot server at {self.address} within "
                                       f"{self.timeout_s:g} s: is it running (scripts/serve_sim_robot.py)?")
            if msg.type == "reject":
                self.close(say_bye=False)
                raise RobotRefused(f"robot server at {self.address} refused the session: {msg.fields.get('reason')}")
            if msg.type == "welcome":
                self.session = msg.session
                self.spec = RobotSpec.from_dict(msg.fields["spec"])
                self.lockstep = bool(msg.fields.get("lockstep"))
                self.episodic = bool(msg.fields.get("episodic"))
                if self.goal_ttl_s is None:
                    self.goal_ttl_s = 2 * self.spec.control_period_s
                break
        return self.recv_state()

    # -- sending ------------------------------------------------------------------------------------
    def send_goal(self, action: np.ndarray, ttl_s: float | None = None) -> int:
        now = time.monotonic()
        ttl = self.goal_ttl_s if ttl_s is None else ttl_s
        action = np.asarray(action)
        if action.dtype.kind == "f" and action.dtype != np.float64:
            action = action.astype(np.float32)
        self.last_goal_seq = self._send("goal", arrays={"action": action}, expires=now + ttl, t=now)
        return self.last_goal_seq

    def estop(self, reason: str = "client request") -> State:
        seq = self._send("estop", reason=reason)
        return self.recv_state(answering=seq)

    def reset(self, ttl_s: float | None = None) -> State:
        """Clear a latched stop; the robot holds at its measured pose until the next goal. Like a goal,
        a reset expires (``ttl_s``, default the goal TTL): a delayed or replayed one is refused."""
        now = time.monotonic()
        seq = self._send("reset", expires=now + (self.goal_ttl_s if ttl_s is None else ttl_s), t=now)
        return self.recv_state(answering=seq)

    def new_episode(self, seed: int | None = None) -> State:
        """Start an episode (episodic robots); ``seed`` reseeds a simulated task."""
        seq = self._send("new_episode", **({} if seed is None else {"seed": int(seed)}))
        return self.recv_state(answering=seq)

    def heartbeat(self) -> None:
        self._send("heartbeat")

    def step(self, action: np.ndarray) -> State:
        """Send a goal and wait for the state that answers it."""
        return self.recv_state(answering=self.send_goal(action))

    # -- receiving ----------------------------------------------------------------------------------
    def recv_state(self, answering: int | None = None, timeout_s: float | None = None) -> State:
        """The newest state; with ``answering``, the first state that answers that message or a later one.
        Raises :class:`RobotUnreachable` when none comes within the timeout."""
        deadline = time.monotonic() + (self.timeout_s if timeout_s is None else timeout_s)
        newest = None
        while True:
            msg = self._recv(deadline if newest is None else time.monotonic())
            if msg is None:
                if newest is not None:
                    return newest
                raise RobotUnreachable(f"no state from {self.address} within "
                                       f"{self.timeout_s if timeout_s is None else timeout_s:g} s: server gone or hung")
            if msg.type != "state" or msg.session != self.session:
                continue
            state = self._to_state(msg)
            self.last_state = state
            if answering is None or state.in_reply_to >= answering:
                newest = state
                if answering is not None:
                    return state

    def _to_state(self, msg: Message) -> State:
        now = time.monotonic()
        f = msg.fields
        rtt = now - f["echo_t"] if f.get("answers") == "goal" else None
        self.event_log.extend(f.get("events", []))
        del self.event_log[:-10000]
        return State(msg.arrays, str(f.get("mode", "")), str(f.get("reason", "")), list(f.get("events", [])),
                     int(f.get("in_reply_to", -1)), str(f.get("answers", "")), rtt, now, msg.seq, f)

    def _recv(self, deadline: float) -> Message | None:
        while True:
            timeout_ms = max(0.0, (deadline - time.monotonic()) * 1e3)
            if not self._sock.poll(timeout_ms, zmq.POLLIN):
                return None
            try:
                return protocol.decode(self._sock.recv_multipart(zmq.NOBLOCK), self.secret)
            except ProtocolError:
                self.bad_messages += 1
            except zmq.Again:
                continue

    def _send(self, kind: str, arrays=None, t: float | None = None, **fields) -> int:
        if self._sock is None:
            raise RobotUnreachable("not connected: call connect() first")
        self._seq += 1
        msg = Message(kind, self.session, self._seq, time.monotonic() if t is None else t, fields, arrays or {})
        transport.send(self._sock, msg, self.secret)
        return self._seq

    def close(self, say_bye: bool = True) -> None:
        if self._sock is None:
            return
        if say_bye and self.session:
            self._send("bye")
        self._sock.close(linger=100 if say_bye else 0)
        self._sock = None
        self.session = ""

    def __enter__(self):
        self.connect()
        return self

    def __exit__(self, *exc):
        self.close()
