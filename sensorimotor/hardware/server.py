"""The robot server: owns the driver, the safety layer and the fixed-rate loop.

One client at a time drives the robot (a ``hello`` with the right spec hash opens a session); the
server publishes a ``state`` after every control step, carrying the measurements, the action actually
applied, the mode (active / hold / stopped), every safety event and the goal it answers.

Two clocks:
- free-running (real robots): the loop ticks on absolute deadlines every ``control_period_s`` and
  applies the newest valid goal; a period without one counts towards the watchdog.
- lockstep (simulated robots, for evaluation parity): the simulation advances only when a goal
  answering the latest state arrives; waiting still counts towards the watchdog.

Every exit path (return, exception, SIGINT, SIGTERM) runs hold -> park -> release.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
import uuid
from dataclasses import dataclass, field

import numpy as np
import zmq

from sensorimotor.hardware import protocol, transport
from sensorimotor.hardware.protocol import Message, ProtocolError
from sensorimotor.hardware.robot import Robot
from sensorimotor.hardware.safety import GoalRejected, SafetyConfig, SafetyLayer

log = logging.getLogger("sensorimotor.hardware.server")

CLOCK_TOLERANCE_S = 0.25
"""How far a client's message may claim to be ahead of the clock offset measured so far (latency
jitter, clock drift); further is a poisoned clock and the message is dropped, so it cannot move the
offset and make every later goal look expired."""


@dataclass
class ServerStats:
    periods: int = 0
    overruns: int = 0
    goals_applied: int = 0
    goals_rejected: int = 0
    goals_superseded: int = 0
    bad_messages: int = 0
    clients_refused: int = 0
    flooded_periods: int = 0
    """Periods in which ``max_messages_per_period`` was reached: the rest waited for later periods
    (ZeroMQ queues per peer and serves peers in turn, so a flooding socket cannot starve the client)."""
    events: list[str] = field(default_factory=list)


@dataclass
class _Session:
    identity: bytes
    session: str
    clock_offset: float  # server_time - client_time, minimum seen (includes the one-way latency)
    last_heard: float


class RobotServer:
    """Serve ``robot`` at ``address``.

    Args:
        robot: a connected-on-start driver (``connect`` is called by :meth:`serve`).
        address: ``tcp://127.0.0.1:PORT`` by default; another host needs ``secret``.
        secret: shared secret: every message is then signed and checked with HMAC-SHA256.
        safety: watchdog periods and limits.
        lockstep: advance only when a goal answers the latest state (simulated robots).
        park_timeout_s: how long parking may take before release.
        max_messages_per_period: messages handled per control period at most, so that no flood of
            messages, valid or not, can push the loop past its deadlines or starve the watchdog.
    """

    def __init__(self, robot: Robot, address: str = "tcp://127.0.0.1:5555", secret: bytes | None = None,
                 safety: SafetyConfig = SafetyConfig(), lockstep: bool = False, park_timeout_s: float = 2.0,
                 max_messages_per_period: int = 64):
        transport.check_address(address, secret)
        self.robot, self.address, self.secret = robot, address, secret
        self.spec = robot.spec
        self.spec_hash = self.spec.hash()
        self.safety = SafetyLayer(self.spec, safety, robot.forward_kinematics)
        self.lockstep = lockstep
        self.park_timeout_s = park_timeout_s
        self.max_messages_per_period = max_messages_per_period
        self.period = self.spec.control_period_s
        self.stats = ServerStats()
        self._stop = threading.Event()
        self._ready = threading.Event()
        self._client: _Session | None = None
        self._pending: tuple[np.ndarray, Message, float] | None = None  # goal, message, arrival time
        self._goal_wait = 0.0
        self._reply_to: Message | None = None
        self._events: list[str] = []
        self._operator: list[tuple[str, str]] = []  # list.append / pop(0) are atomic under the GIL
        self._seq = 0
        self._measured: dict[str, np.ndarray] = {}
        self._sock: zmq.Socket | None = None
        self.bound_address: str | None = None

    # -- lifecycle ----------------------------------------------------------------------------------
    def serve(self, max_periods: int | None = None, handle_signals: bool = False) -> ServerStats:
        """Run until :meth:`stop`, ``max_periods`` or a signal. Always ends hold -> park -> release."""
        context = zmq.Context.instance()
        self._sock = transport.make_socket(context, zmq.ROUTER)
        previous = self._install_signals() if handle_signals else {}
        try:
            self._sock.bind(self.address)
            self.bound_address = self._sock.getsockopt_string(zmq.LAST_ENDPOINT)
            self.robot.connect()
            self._measured = self.robot.observe()
            self._ready.set()
            self._loop(max_periods)
        finally:
            self._shutdown()
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        return self.stats

    def start(self) -> threading.Thread:
        """Serve from a background thread (tests, benchmarks); returns once the socket is bound."""
        thread = threading.Thread(target=self.serve, name="robot-server", daemon=True)
        thread.start()
        if not self._ready.wait(10.0):
            raise RuntimeError("robot server did not start within 10 s")
        return thread

    def stop(self) -> None:
        self._stop.set()

    def estop(self, reason: str) -> None:
        """Latch an e-stop from any thread (signal handler, keyboard): the loop applies it at its next step."""
        self._operator.append(("estop", reason))

    def request_reset(self, reason: str) -> None:
        """Clear a latched stop from the operator's side (keyboard); applied by the loop."""
        self._operator.append(("reset", reason))

    def _operator_requests(self) -> None:
        while self._operator:
            kind, reason = self._operator.pop(0)
            if kind == "estop":
                self._event(self.safety.estop(reason))
            else:
                self._pending = None  # goals accepted before the reset are never executed after it
                self._event(f"{self.safety.reset(self._measured_position())} ({reason})")

    def _install_signals(self):
        def shutdown(signum, frame):
            self._event(f"signal {signal.Signals(signum).name}: shutting down")
            self._stop.set()

        def estop(signum, frame):
            self.estop(f"signal {signal.Signals(signum).name}")

        handlers = {signal.SIGINT: shutdown, signal.SIGTERM: shutdown, signal.SIGUSR1: estop}
        return {sig: signal.signal(sig, h) for sig, h in handlers.items()}

    # -- the loop -----------------------------------------------------------------------------------
    def _loop(self, max_periods: int | None) -> None:
        start = time.monotonic()
        k = 0
        while not self._stop.is_set() and (max_periods is None or self.stats.periods < max_periods):
            deadline = start + (k + 1) * self.period
            if self.lockstep:
                got = self._receive_until(deadline, until_goal=True)
                if got:
                    self._control_step()
                    start, k = time.monotonic(), 0  # the next wait is a full period from here
                    continue
                self._missed_period()
            else:
                self._receive_until(deadline)
                self._control_step()
            k += 1
            now = time.monotonic()
            if now > start + (k + 1) * self.period:
                skipped = int((now - start) / self.period) - k
                self.stats.overruns += 1
                k += skipped  # re-anchor on the grid rather than bursting to catch up

    def _receive_until(self, deadline: float, until_goal: bool = False) -> bool:
        """Handle messages until ``deadline`` (at most ``max_messages_per_period`` of them); with
        ``until_goal``, return True at the first accepted goal."""
        handled = 0
        while True:
            timeout_ms = max(0.0, (deadline - time.monotonic()) * 1e3)
            if not self._sock.poll(timeout_ms, zmq.POLLIN):
                return self._pending is not None
            while handled < self.max_messages_per_period and time.monotonic() < deadline:
                try:
                    frames = self._sock.recv_multipart(zmq.NOBLOCK)
                except zmq.Again:
                    break
                handled += 1
                self._handle_safely(frames)
                if until_goal and self._pending is not None:
                    return True
            if handled >= self.max_messages_per_period:  # a flood: the rest waits for the next periods
                self.stats.flooded_periods += 1
                time.sleep(max(0.0, deadline - time.monotonic()))
                return self._pending is not None
            if time.monotonic() >= deadline:
                return self._pending is not None

    def _handle_safely(self, frames: list[bytes]) -> None:
        """No message may end the loop: anything a message makes go wrong is a counted rejection."""
        try:
            self._handle(frames)
        except Exception as exc:  # noqa: BLE001 - the control loop must outlive every message
            self.stats.bad_messages += 1
            self._event(f"message dropped: {type(exc).__name__}: {str(exc)[:80]}")

    def _missed_period(self) -> None:
        self.stats.periods += 1
        self._operator_requests()
        if self._client is not None:
            event = self.safety.tick_missed()
            if event:
                self._event(event)

    def _control_step(self) -> None:
        """One period: pick the command (goal, repeat, or hold), apply it, publish the state."""
        self.stats.periods += 1
        self._operator_requests()
        measured = self._measured_position()
        answering = None
        if self.safety.mode == "stopped":
            command = self.safety.hold_command(measured)
            self._pending = None
        elif self._pending is not None:
            goal, msg, arrived = self._pending
            self._pending = None
            self._goal_wait = time.monotonic() - arrived
            command, events = self.safety.filter(goal, measured, self._measured_joint_positions())
            self.safety.follow()
            for e in events:
                self._event(f"goal {msg.seq}: {e}")
            self.stats.goals_applied += 1
            answering = msg
        else:
            event = self.safety.tick_missed() if self._client is not None else None
            if event:
                self._event(event)
            if self.safety.mode == "active" and self.safety.last_command is not None:
                command = self.safety.repeat_command(self._measured_joint_positions())
            else:
                command = self.safety.hold_command(measured)
        applied = self.robot.send_action(command)
        self._measured = self.robot.observe()
        self._publish(applied, answering)

    def _measured_joint_positions(self) -> np.ndarray | None:
        """The robot's reported joint positions, or None for a robot that reports none."""
        return np.asarray(self._measured["position"], np.float64) if "position" in self._measured else None

    def _measured_position(self) -> np.ndarray:
        if "position" in self._measured:
            return np.asarray(self._measured["position"], dtype=np.float64)
        last = self.safety.last_command
        return np.zeros(self.spec.action_size) if last is None else last

    # -- messages -----------------------------------------------------------------------------------
    def _handle(self, frames: list[bytes]) -> None:
        if len(frames) < 2:
            self.stats.bad_messages += 1
            return
        identity, body = frames[0], frames[1:]
        now = time.monotonic()
        try:
            msg = protocol.decode(body, self.secret)
        except ProtocolError as exc:
            self.stats.bad_messages += 1
            self._event(f"bad message dropped: {exc}")
            return
        if msg.type == "hello":
            self._hello(identity, msg, now)
            return
        client = self._client
        if client is None or identity != client.identity or msg.session != client.session:
            self.stats.clients_refused += 1
            self._reply(identity, "error", reason="not the driving session: send hello first (one driver at a time)")
            return
        if msg.type == "estop":  # stopping is always honoured, whatever its clock says
            client.last_heard = now
            self._event(self.safety.estop(f"client: {str(msg.fields.get('reason', 'no reason given'))[:200]}"))
            self._publish(None, msg)
            return
        offset = now - msg.t
        if offset < client.clock_offset - CLOCK_TOLERANCE_S:
            self.stats.bad_messages += 1
            self._event(f"{msg.type} {msg.seq} dropped: its clock is {client.clock_offset - offset:.3g} s ahead of the "
                        "session's (a message from the future)")
            return
        client.last_heard = now
        client.clock_offset = min(client.clock_offset, offset)
        if msg.type == "goal":
            self._goal(msg, now)
        elif msg.type == "heartbeat":
            self.safety.heartbeat()
        elif msg.type == "reset":
            self._reset(msg, now)
        elif msg.type == "new_episode":
            self._new_episode(msg)
        elif msg.type == "bye":
            self._event("client said bye: holding")
            self._client = None
            self.safety.client_left()
        else:
            self.stats.bad_messages += 1

    def _hello(self, identity: bytes, msg: Message, now: float) -> None:
        wanted = msg.fields.get("spec_hash")
        if wanted != self.spec_hash:
            self.stats.clients_refused += 1
            self._reply(identity, "reject", reason=f"robot spec hash {self.spec_hash} differs from the policy's "
                        f"{wanted}: the policy was exported for another robot or another spec version")
            return
        client = self._client
        stale = client is not None and now - client.last_heard > self.safety.config.stop_after * self.period
        if client is not None and client.identity != identity and not stale:
            self.stats.clients_refused += 1
            self._reply(identity, "reject", reason="busy: another client is driving this robot")
            return
        session = uuid.uuid4().hex[:12]
        self._client = _Session(identity, session, now - msg.t, now)
        self._pending = None
        self.safety.new_session(msg.seq)
        self._event(f"session {session} opened")
        self._reply(identity, "welcome", session=session, spec=self.spec.to_dict(), spec_hash=self.spec_hash,
                    lockstep=self.lockstep, episodic=self.robot.episodic, mode=self.safety.mode)
        self._publish(None, msg)

    def _expires_at(self, msg: Message) -> float:
        """The message's ``expires`` on the server's clock (-inf when it has none or it is not a number)."""
        expires = msg.fields.get("expires")
        if not isinstance(expires, (int, float)) or isinstance(expires, bool) or not np.isfinite(expires):
            return -np.inf
        return float(expires) + self._client.clock_offset

    def _reset(self, msg: Message, now: float) -> None:
        """A client's reset: as fresh as a goal must be (no replays, no reset from before the last goal);
        it discards any goal accepted before it."""
        try:
            self.safety.check_reset(msg.seq, self._expires_at(msg), now)
        except GoalRejected as exc:
            self.stats.goals_rejected += 1
            self._event(f"reset {msg.seq} rejected: {exc}")
            self._publish(None, msg)
            return
        self._pending = None
        self._event(self.safety.reset(self._measured_position()))
        self._publish(None, msg)

    def _goal(self, msg: Message, now: float) -> None:
        if not self.safety.accepts_goals:
            self.stats.goals_rejected += 1
            self._event(f"goal {msg.seq} ignored: {self.safety.reason}")
            self._answer_unapplied(msg)
            return
        try:
            goal = self.safety.check_goal(msg.arrays.get("action"), msg.seq, self._expires_at(msg), now)
        except GoalRejected as exc:
            self.stats.goals_rejected += 1
            self._event(f"goal {msg.seq} rejected: {exc}")
            self._answer_unapplied(msg)
            return
        if self._pending is not None:
            self.stats.goals_superseded += 1
        self._pending = (goal, msg, now)

    def _answer_unapplied(self, msg: Message) -> None:
        # Lockstep clients wait for the state answering each goal; a free-running server answers
        # with its next tick anyway.
        if self.lockstep:
            self._publish(None, msg)

    def _new_episode(self, msg: Message) -> None:
        if not self.robot.episodic:
            self._reply(self._client.identity, "error", reason=f"{self.spec.name} is not episodic")
            return
        seed = msg.fields.get("seed")
        seed = seed if isinstance(seed, int) and not isinstance(seed, bool) and 0 <= seed < 2**63 else None
        self._measured = self.robot.new_episode(seed=seed)
        self._pending = None
        self._publish(None, msg)

    # -- output -------------------------------------------------------------------------------------
    def _publish(self, applied: np.ndarray | None, answering: Message | None) -> None:
        if self._client is None:
            self._events.clear()
            return
        arrays = {k: np.asarray(v) for k, v in self._measured.items()}
        if applied is not None:
            arrays["applied"] = np.asarray(applied, dtype=np.float64)
        self._seq += 1
        fields = {"mode": self.safety.mode, "reason": self.safety.reason, "events": self._events[-32:],
                  "period": self.stats.periods, "in_reply_to": answering.seq if answering else -1,
                  "echo_t": answering.t if answering else 0.0, "answers": answering.type if answering else "",
                  # seconds the applied goal waited on the server between arrival and application
                  "goal_wait_s": self._goal_wait if applied is not None and answering else None}
        self._events = []
        msg = Message("state", self._client.session, self._seq, time.monotonic(), fields, arrays)
        transport.send(self._sock, msg, self.secret, self._client.identity)

    def _reply(self, identity: bytes, kind: str, session: str = "", **fields) -> None:
        self._seq += 1
        msg = Message(kind, session, self._seq, time.monotonic(), fields)
        transport.send(self._sock, msg, self.secret, identity)

    def _event(self, text: str) -> None:
        log.info(text)
        self.stats.events.append(text)
        del self.stats.events[:-1000]
        self._events.append(text)

    def _shutdown(self) -> None:
        """Hold, park, release: each step tried even if the one before failed."""
        try:
            if self.robot.is_connected:
                measured = self._measured_position()
                self.robot.send_action(self.safety.hold_command(measured))
                self._event("shutdown: hold")
                if self.safety.estop_latched:  # a latched e-stop wins over parking: the robot stays put
                    self._event("shutdown: e-stop latched, not parking")
                else:
                    self._park()
        except Exception as exc:  # noqa: BLE001 - the release below must still run
            self._event(f"shutdown: hold/park failed: {exc!r}")
        finally:
            try:
                if self.robot.is_connected:
                    self.robot.disconnect()
                self._event("shutdown: released")
            finally:
                if self._sock is not None:
                    self._sock.close(linger=0)
                    self._sock = None

    def _park(self) -> None:
        if not self.spec.park or self.spec.action != "position":
            return
        target = np.array(self.spec.park)
        deadline = time.monotonic() + self.park_timeout_s
        while time.monotonic() < deadline:
            measured = np.asarray(self.robot.observe()["position"], dtype=np.float64)
            if np.max(np.abs(measured - target)) < 1e-3:
                break
            step = np.clip(target - measured, -self.safety.max_step, self.safety.max_step)
            self.robot.send_action(measured + step)
            time.sleep(self.period)
        self._event("shutdown: parked")
