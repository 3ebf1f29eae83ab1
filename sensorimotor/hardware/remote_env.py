"""A served robot as a Gymnasium env, so any agent or evaluation loop can act on it.

``reset`` opens an episode (``new_episode`` on the server), ``step`` sends a goal and waits for the
state that answers it. Observation: the robot's ``obs`` entry (``spec.observation``); action: one entry
per joint within its limits. Reward and termination come from episodic (simulated) robots; a real
robot reports 0 and never terminates on its own. ``info`` carries the safety mode, events, the action
actually applied; the round-trip time of the last step is ``env.last_rtt_s`` (kept out of ``info``
so that equal seeds and actions give equal infos).
"""

from __future__ import annotations

import gymnasium as gym
import numpy as np

from sensorimotor.hardware.client import RobotClient


class RemoteRobotEnv(gym.Env):
    metadata = {"render_modes": []}

    def __init__(self, address: str, spec_hash: str, obs_key: str = "obs", secret: bytes | None = None,
                 timeout_s: float = 2.0):
        self.client = RobotClient(address, spec_hash, secret=secret, timeout_s=timeout_s)
        self.client.connect()
        spec = self.client.spec
        sizes = dict(spec.observation)
        if obs_key not in sizes:
            raise ValueError(f"robot {spec.name} reports {list(sizes)}, not {obs_key!r}")
        self.obs_key = obs_key
        self.last_rtt_s: float | None = None
        self.observation_space = gym.spaces.Box(-np.inf, np.inf, (sizes[obs_key],), np.float32)
        self.action_space = gym.spaces.Box(np.array([j.lower for j in spec.joints], np.float32),
                                           np.array([j.upper for j in spec.joints], np.float32))

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        state = self.client.new_episode(seed) if self.client.episodic else self.client.recv_state()
        return state.arrays[self.obs_key].astype(np.float32), self._info(state)

    def step(self, action):
        state = self.client.step(np.asarray(action, dtype=np.float32))
        self.last_rtt_s = state.rtt_s
        reward = float(state.arrays.get("reward", np.zeros(1))[0])
        return state.arrays[self.obs_key].astype(np.float32), reward, state.terminated, state.truncated, self._info(state)

    @staticmethod
    def _info(state) -> dict:
        return {"mode": state.mode, "events": state.events, "applied": state.arrays.get("applied")}

    def close(self):
        self.client.close()
