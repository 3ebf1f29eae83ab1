"""The safety layer: always on, server side, independent of whatever the client sends.

Three jobs, each a small method the server calls once per period:

- ``check_goal``: reject a goal message outright (wrong shape or dtype, NaN/Inf, expired, out of
  order or duplicated, wrong session). A rejected goal never reaches ``filter``.
- ``filter``: turn an accepted goal into a command the robot may execute: clamp to joint limits, rate
  limit against the measured state, keep the end effector in the workspace box. Each change is
  reported as an event string.
- ``tick``: the watchdog and the e-stop latch decide the mode: ``active`` (follow goals), ``hold``
  (no valid goal for ``hold_after`` periods: keep still), ``stopped`` (no goal for ``stop_after``
  periods, or an e-stop: latched until :meth:`reset`, which re-seeds from the measured pose).

Units are the spec's (rad, rad/s, normalized effort); times are seconds on the server's monotonic clock.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sensorimotor.hardware.spec import RobotSpec


class GoalRejected(ValueError):
    """A goal the safety layer will not pass; the text says why."""


@dataclass(frozen=True)
class SafetyConfig:
    hold_after: int = 3
    """Periods without a valid goal before the robot holds still."""
    stop_after: int = 25
    """Periods without a valid goal before the robot stops (latched; needs an explicit reset)."""
    max_abs: float = 1e3
    """Values beyond this are rejected as garbage rather than clamped."""
    seq_window: int = 100_000
    """A control message whose sequence number jumps further ahead than this is rejected: one poisoned
    ``seq = 2**64 - 1`` must not make every later goal look old."""
    max_ttl_s: float = 10.0
    """A goal or reset may be valid at most this long into the future (its ``expires``); further is a
    poisoned clock, rejected."""

    def __post_init__(self):
        if not 1 <= self.hold_after < self.stop_after:
            raise ValueError(f"need 1 <= hold_after < stop_after, got {self.hold_after}, {self.stop_after}")


class SafetyLayer:
    """State: the last accepted goal sequence, the mode, the missed-period count and the hold target."""

    def __init__(self, spec: RobotSpec, config: SafetyConfig = SafetyConfig(), forward_kinematics=None):
        self.spec = spec
        self.config = config
        self.fk = forward_kinematics
        self.lower = np.array([j.lower for j in spec.joints])
        self.upper = np.array([j.upper for j in spec.joints])
        self.max_step = np.array([j.max_velocity for j in spec.joints]) * spec.control_period_s
        self.ws_low = np.array(spec.workspace_low) if spec.workspace_low else None
        self.ws_high = np.array(spec.workspace_high) if spec.workspace_high else None
        self.mode = "hold"  # nothing to follow until the first goal
        self.reason = "waiting for the first goal"
        self.missed = 0
        self.last_seq = -1
        self.driven = False  # a goal has been accepted in this session (the watchdog stops only then)
        self.last_command: np.ndarray | None = None
        self.hold_target: np.ndarray | None = None

    # -- goals ------------------------------------------------------------------------------------
    def check_fresh(self, seq: int, expires_at: float, now: float) -> None:
        """The session checks every control message (goal, reset) passes: a newer sequence number than
        the last accepted one, within ``seq_window`` of it, and an expiry in ``[now, now + max_ttl_s]``."""
        if seq <= self.last_seq:
            raise GoalRejected(f"seq {seq} is not newer than {self.last_seq} (duplicate, reordered or replayed)")
        if self.last_seq >= 0 and seq - self.last_seq > self.config.seq_window:
            raise GoalRejected(f"seq {seq} jumps {seq - self.last_seq} past the last one (window "
                               f"{self.config.seq_window}): poisoned")
        if not now <= expires_at:
            raise GoalRejected(f"expired {1e3 * (now - expires_at):.1f} ms ago" if np.isfinite(expires_at)
                               else "no expiry")
        if expires_at - now > self.config.max_ttl_s:
            raise GoalRejected(f"expires {expires_at - now:.3g} s from now, beyond {self.config.max_ttl_s:g} s: "
                               "a clock from the future")

    def check_goal(self, action, seq: int, expires_at: float, now: float) -> np.ndarray:
        """Returns the goal as float64 ``[J]`` or raises :class:`GoalRejected`."""
        if not isinstance(action, np.ndarray):
            raise GoalRejected("goal has no 'action' array")
        if action.dtype.kind != "f":
            raise GoalRejected(f"action dtype {action.dtype.name}; send float32 or float64")
        if action.shape != (self.spec.action_size,):
            raise GoalRejected(f"action shape {list(action.shape)}, this robot takes [{self.spec.action_size}]")
        if not np.all(np.isfinite(action)):
            raise GoalRejected("action contains NaN or Inf")
        if np.any(np.abs(action) > self.config.max_abs):
            raise GoalRejected(f"action magnitude beyond {self.config.max_abs}: garbage, not clamped")
        self.check_fresh(seq, expires_at, now)
        self.last_seq = seq
        self.driven = True
        return action.astype(np.float64)

    def filter(self, goal: np.ndarray, measured: np.ndarray,
               position: np.ndarray | None = None) -> tuple[np.ndarray, list[str]]:
        """An accepted goal ``[J]`` to the command to apply ``[J]``, and the changes made.

        ``measured``: the reference pose (the measured position, or the last command where none is
        measured); ``position``: the measured joint positions when the robot reports them (velocity
        commands are then also stopped where they would leave the position limits within one period).
        """
        events = []
        if self.spec.action == "velocity":
            command = self._velocity_limits(goal, position)
            if not np.array_equal(command, goal):
                events.append("clamped to velocity limits")
        else:
            command = np.clip(goal, self.lower, self.upper)
            if not np.array_equal(command, goal):
                events.append("clamped to joint limits")
        if self.spec.action == "position":
            reference = measured
            step = self.max_step
        else:
            reference = self.last_command if self.last_command is not None else np.zeros_like(goal)
            step = np.full_like(goal, self.spec.max_command_step)
        limited = np.clip(command, reference - step, reference + step)
        if not np.array_equal(limited, command):
            events.append("rate limited")
        command = limited
        if self.spec.action == "position" and self.fk is not None and self.ws_low is not None:
            command, moved = self._inside_workspace(command, measured)
            if moved:
                events.append("kept inside the workspace")
        self.last_command = command
        self.missed = 0
        if self.mode == "hold":
            self.mode, self.reason = "active", ""
        return command, events

    def _velocity_limits(self, goal: np.ndarray, position: np.ndarray | None) -> np.ndarray:
        """Velocity goals within each joint's ``max_velocity``, and, with a measured ``position``, no
        motion that would leave ``[lower, upper]`` within one period (a joint beyond a limit may stay
        or move back, never further out)."""
        vmax = self.max_step / self.spec.control_period_s
        low, high = -vmax, vmax
        if position is not None:
            dt = self.spec.control_period_s
            high = np.minimum(high, np.maximum(0.0, (self.upper - position) / dt))
            low = np.maximum(low, np.minimum(0.0, (self.lower - position) / dt))
        return np.clip(goal, low, high)

    def _inside_workspace(self, command: np.ndarray, measured: np.ndarray) -> tuple[np.ndarray, bool]:
        if self._in_box(command):
            return command, False
        if not self._in_box(measured):
            return measured.copy(), True  # already outside: do not move further
        lo, hi = 0.0, 1.0  # bisect along measured -> command for the farthest point inside
        for _ in range(20):
            mid = 0.5 * (lo + hi)
            if self._in_box(measured + mid * (command - measured)):
                lo = mid
            else:
                hi = mid
        return measured + lo * (command - measured), True

    def _in_box(self, position: np.ndarray) -> bool:
        p = self.fk(position)
        return bool(np.all(p >= self.ws_low) and np.all(p <= self.ws_high))

    # -- watchdog, e-stop -------------------------------------------------------------------------
    def tick_missed(self) -> str | None:
        """Call once per period in which no valid goal arrived. Returns an event on a mode change."""
        self.missed += 1
        if self.mode == "active" and self.missed >= self.config.hold_after:
            self.mode, self.reason = "hold", f"no valid goal for {self.missed} periods"
            return f"watchdog: hold after {self.missed} missed periods"
        if self.mode == "hold" and self.missed >= self.config.stop_after and self.driven:
            self.mode, self.reason = "stopped", f"no valid goal for {self.missed} periods"
            return f"watchdog: stopped after {self.missed} missed periods (reset to resume)"
        return None

    def heartbeat(self) -> None:
        """A valid heartbeat from the client: the watchdog starts counting again."""
        self.missed = 0

    def client_left(self) -> None:
        """The client said bye: an active robot holds (a stopped one stays stopped)."""
        if self.mode == "active":
            self.mode, self.reason = "hold", "client left"

    def new_session(self, seq: int = -1) -> None:
        """A new client session, opened by a hello numbered ``seq``: sequence numbers start from it."""
        self.last_seq, self.driven = seq, False

    def estop(self, reason: str) -> str:
        self.mode, self.reason = "stopped", f"e-stop: {reason}"
        return self.reason

    @property
    def estop_latched(self) -> bool:
        """An e-stop holds the robot until an explicit reset; it wins over parking on every exit path."""
        return self.mode == "stopped" and self.reason.startswith("e-stop")

    def check_reset(self, seq: int, expires_at: float, now: float) -> None:
        """A client's reset passes the same freshness checks as a goal (a replayed reset, one from an
        earlier sequence, or one without a valid expiry is rejected); accepting it moves the sequence,
        so every goal sent before it is old from now on."""
        self.check_fresh(seq, expires_at, now)
        self.last_seq = seq

    def reset(self, measured: np.ndarray) -> str:
        """Clear a stop. The robot holds at the measured pose until a new goal arrives; rate limits
        are re-seeded from it, so the first goal cannot jump."""
        self.mode, self.reason = "hold", "reset: waiting for a goal"
        self.missed = 0
        self.hold_target = measured.copy()
        self.last_command = measured.copy() if self.spec.action == "position" else np.zeros_like(measured)
        return "reset: holding at the measured pose"

    def hold_command(self, measured: np.ndarray) -> np.ndarray:
        """What to send while holding or stopped: the pose where holding began (position robots), or
        a zero command (velocity / effort)."""
        if self.spec.action != "position":
            self.last_command = np.zeros(self.spec.action_size)
            return self.last_command
        if self.hold_target is None:
            self.hold_target = measured.copy()
        return self.hold_target.copy()

    def repeat_command(self, position: np.ndarray | None) -> np.ndarray:
        """The last command again, for a period without a new goal. A velocity command is checked
        against the position limits once more (the joint moved since the goal was filtered): repeated
        unchecked, a late client's last velocity drove a joint on past its limit."""
        if self.spec.action == "velocity":
            self.last_command = self._velocity_limits(self.last_command, position)
        return self.last_command

    def follow(self) -> None:
        """Forget the hold target once goals are followed again."""
        self.hold_target = None

    @property
    def accepts_goals(self) -> bool:
        return self.mode != "stopped"

