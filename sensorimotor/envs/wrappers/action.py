"""Action clipping to the action space bounds (Gaussian policies sample unbounded actions)."""

from __future__ import annotations

import gymnasium as gym
import torch

from sensorimotor.envs.wrappers.base import VecEnvWrapper


class ClipAction(VecEnvWrapper):
    """Clips continuous actions into ``[low, high]`` before the env sees them; the agent keeps the
    unclipped sample for its log-probability."""

    def __init__(self, env):
        super().__init__(env)
        space = env.single_action_space
        assert isinstance(space, gym.spaces.Box), "ClipAction needs a Box action space"
        self._low = torch.as_tensor(space.low, dtype=torch.float32, device=env.device)
        self._high = torch.as_tensor(space.high, dtype=torch.float32, device=env.device)

    def step(self, actions: torch.Tensor):
        return self.env.step(torch.maximum(torch.minimum(actions, self._high), self._low))
