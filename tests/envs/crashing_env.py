"""An env that raises on its third step, importable by spawned worker processes (tests/envs/test_subproc.py)."""

import gymnasium as gym
import numpy as np


class CrashingEnv(gym.Env):
    observation_space = gym.spaces.Box(-1.0, 1.0, (2,), np.float32)
    action_space = gym.spaces.Discrete(2)

    def __init__(self, render_mode=None):
        self.render_mode = render_mode

    def reset(self, seed=None, options=None):
        super().reset(seed=seed)
        self.steps = 0
        return np.zeros(2, np.float32), {}

    def step(self, action):
        self.steps += 1
        if self.steps == 3:
            raise ValueError("the simulator blew up on step 3")
        return np.zeros(2, np.float32), 0.0, False, False, {}
