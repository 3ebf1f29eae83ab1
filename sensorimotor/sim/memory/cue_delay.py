"""A memory task with a controllable delay: remember a cue through blank steps, then name it.

Step 0 shows one of K cues (one-hot); the next ``delay`` steps show nothing; the last step shows a
"decide now" flag, and the action taken there is scored: +1 for the cue's index, -1/(K-1) otherwise,
so guessing earns 0 in expectation. Every observation a memoryless policy sees at the decision step is
the same whatever the cue, so no feed-forward policy can beat chance (expected return 0); a policy
with memory can reach 1.
"""

from __future__ import annotations

import gymnasium as gym
import numpy as np


class CueDelay(gym.Env):
    """Observation ``[K + 1]`` float32: the cue's one-hot (step 0 only) and the decision flag.
    Actions ``Discrete(K)``. Episodes last ``delay + 2`` steps and end terminated."""

    metadata = {"render_modes": []}

    def __init__(self, delay: int = 8, cues: int = 2, render_mode: str | None = None):
        if delay < 0 or cues < 2:
            from sensorimotor.errors import UserError

            raise UserError(f"CueDelay needs delay >= 0 and cues >= 2, got delay={delay}, cues={cues}.")
        self.delay, self.cues = delay, cues
        self.observation_space = gym.spaces.Box(0.0, 1.0, (cues + 1,), np.float32)
        self.action_space = gym.spaces.Discrete(cues)
        self._cue, self._t = 0, 0

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        self._cue, self._t = int(self.np_random.integers(self.cues)), 0
        return self._observation(), {}

    def step(self, action):
        self._t += 1
        decision = self._t == self.delay + 2
        reward = 0.0
        if decision:
            reward = 1.0 if int(action) == self._cue else -1.0 / (self.cues - 1)
        return self._observation(), reward, decision, False, {}

    def _observation(self) -> np.ndarray:
        obs = np.zeros(self.cues + 1, np.float32)
        if self._t == 0:
            obs[self._cue] = 1.0
        elif self._t == self.delay + 1:
            obs[-1] = 1.0
        return obs
