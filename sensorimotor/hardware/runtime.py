"""The deploy runtime: an exported policy drives a served robot at a fixed rate.

Each iteration wakes on an absolute deadline (``t0 + k / hz``, never drifting), then runs named
sections: ``observe`` (the newest state, or in lockstep the one answering the last goal), ``camera``
(``read_latest(max_age)``), ``policy`` and ``send``. It records jitter (wake-up minus deadline),
period (wake-up to wake-up), goal wait (server side, arrival to application),
loop latency (wake-up to goal sent), section times, frame age, observation age at send and RTT,
and writes every step to a recording that survives a kill.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from dataclasses import dataclass

import numpy as np

from sensorimotor.hardware.cameras import Camera, frame_to_policy
from sensorimotor.hardware.client import RobotClient, RobotUnreachable, State
from sensorimotor.hardware.policy import OnnxPolicy
from sensorimotor.hardware.recording import Recorder
from sensorimotor.hardware.timing import LoopTimer, sleep_until

log = logging.getLogger("sensorimotor.hardware.runtime")


@dataclass
class DeployResult:
    steps: int
    episode_returns: list[float]
    timing: dict
    stopped_because: str
    rejected_events: int


class DeployLoop:
    """Args:
        policy: an :class:`OnnxPolicy` (or any callable obs -> action with ``reset()``); one with
            ``reads_state = True`` (:class:`~sensorimotor.hardware.grasp_goals.GraspGoals`) gets the
            whole state's arrays, ``camera`` replaced by the camera's frame when there is one.
        client: a connected :class:`RobotClient`.
        hz: loop rate.
        camera: a started camera whose frame is the policy's input (pixel policies), or None.
        frame_max_age_s: oldest camera frame the policy may act on.
        recorder: where every step goes, or None.
        obs_key: the state array that is the policy's input when there is no camera (``camera``: the
            frame a served sim robot sends with each state).
        reconnects: how many times to reopen the session after the server goes away.
    """

    def __init__(self, policy: OnnxPolicy, client: RobotClient, hz: float, camera: Camera | None = None,
                 frame_max_age_s: float = 0.1, recorder: Recorder | None = None, obs_key: str = "obs",
                 reconnects: int = 3):
        if not (hz > 0 and math.isfinite(hz)):
            raise ValueError(f"hz must be positive, got {hz}")
        self.policy, self.client, self.period = policy, client, 1.0 / hz
        self.camera, self.frame_max_age_s, self.recorder = camera, frame_max_age_s, recorder
        self.obs_key, self.reconnects = obs_key, reconnects
        self.timer = LoopTimer()
        self.stop_event = threading.Event()

    def run(self, episodes: int | None = None, max_steps: int | None = None) -> DeployResult:
        """Until ``episodes`` episodes end (episodic robots), ``max_steps`` or :meth:`stop`."""
        client, timer = self.client, self.timer
        state = client.last_state or client.recv_state()
        if client.episodic:
            state = client.new_episode()
        self.policy.reset()
        returns: list[float] = []
        rejected = 0
        steps, k, episode = 0, 0, 0
        last_goal = None
        reason = "max_steps reached"
        t0 = previous_wake = time.monotonic()
        try:
            while not self.stop_event.is_set() and (max_steps is None or steps < max_steps):
                deadline = t0 + k * self.period
                sleep_until(deadline)
                wake = time.monotonic()
                timer.add("jitter", wake - deadline)
                timer.add("period", wake - previous_wake if steps else None)
                previous_wake = wake
                if wake - deadline > self.period:
                    timer.overruns += 1
                    k = math.ceil((wake - t0) / self.period)  # skip the missed ticks, keep the grid
                with timer.section("observe"):
                    if last_goal is not None:
                        state = self._next_state(last_goal)
                rejected += sum("rejected" in e for e in state.events)
                if state.done:
                    returns.append(float(state.arrays.get("episode_return", [np.nan])[0]))
                    if self.recorder is not None:  # the state that ended it (scores, interventions)
                        self.recorder.write({f"state/{n}": a for n, a in state.arrays.items() if n != "camera"},
                                            kind="episode_end", episode=episode, t=time.monotonic())
                    episode += 1
                    if episodes is not None and episode >= episodes:
                        reason = f"{episode} episodes done"
                        break
                    state, last_goal = client.new_episode(), None
                    self.policy.reset()
                frame_age = None
                with timer.section("camera"):
                    frame = None
                    if self.camera is not None:
                        frame = self.camera.read_latest(self.frame_max_age_s)
                        frame_age = time.monotonic() - frame.timestamp
                    if getattr(self.policy, "reads_state", False):  # e.g. GraspGoals: pose and camera
                        obs = dict(state.arrays) if frame is None else {**state.arrays, "camera": frame.image}
                    elif frame is not None:
                        camera_input = getattr(self.policy, "camera_input", False)
                        obs = frame.image if camera_input else frame_to_policy(frame.image, self.policy.obs_shape)
                    else:
                        obs = state.arrays[self.obs_key]
                        if self.obs_key == "camera" and not getattr(self.policy, "camera_input", False):
                            obs = frame_to_policy(obs, self.policy.obs_shape)  # the served sim camera
                with timer.section("policy"):
                    action = self.policy(obs)
                with timer.section("send"):
                    last_goal = client.send_goal(action)
                sent = time.monotonic()
                timer.add("latency", sent - wake)
                timer.add("frame_age", frame_age)
                timer.add("obs_age_at_send", sent - state.received_at)
                timer.add("rtt", state.rtt_s)
                timer.add("goal_wait", state.fields.get("goal_wait_s"))
                if self.recorder is not None:
                    arrays = {"action": np.asarray(action), **{f"state/{n}": a for n, a in state.arrays.items()}}
                    self.recorder.write(arrays, t=sent, step=steps, episode=episode, goal_seq=last_goal,
                                        mode=state.mode, events=state.events)
                steps += 1
                k += 1
            else:
                if self.stop_event.is_set():
                    reason = "stopped"
        except KeyboardInterrupt:
            reason = "interrupted (SIGINT or SIGTERM): the robot server holds the robot"
        finally:
            if self.recorder is not None:
                self.recorder.close()
        return DeployResult(steps, returns, timer.summary(), reason, rejected)

    def stop(self) -> None:
        self.stop_event.set()

    def _next_state(self, last_goal: int) -> State:
        """The state answering our last goal (lockstep) or the newest one; reopens the session if
        the server went away, trying up to ``reconnects`` times (a server that is still restarting
        makes a try fail; the next one waits again)."""
        try:
            if self.client.lockstep:
                return self.client.recv_state(answering=last_goal)
            return self.client.recv_state(timeout_s=max(self.client.timeout_s, 3 * self.period))
        except RobotUnreachable as exc:
            if self.reconnects == 0:
                raise
            lost = exc
        for attempt in range(self.reconnects):
            log.warning("%s; reconnecting (%d/%d)", lost, attempt + 1, self.reconnects)
            try:
                state = self.client.connect()
            except RobotUnreachable as exc:
                lost = exc
                continue
            if self.client.episodic:
                state = self.client.new_episode()
            self.policy.reset()
            return state
        raise lost
