"""``sync`` backend: N gymnasium envs stepped in this process, with same-step autoreset.

Works for any gymnasium env, so every registered id reaches every agent through it.
"""

from __future__ import annotations

from typing import Callable

import gymnasium as gym
import numpy as np
import torch

from sensorimotor.envs.core import EpisodeStats, check_actions, float32_box, space_dtype


class SyncVecEnv:
    """N gymnasium envs behind the VecEnv contract (see ``envs/core.py``)."""

    def __init__(self, env_fns: list[Callable[[], gym.Env]], device: torch.device = torch.device("cpu")):
        self.envs = [fn() for fn in env_fns]
        self.num_envs = len(self.envs)
        self.device = torch.device(device)
        first = self.envs[0]
        obs_space = first.observation_space
        self.single_observation_space = float32_box(obs_space) if _is_float_box(obs_space) else obs_space
        self.single_action_space = first.action_space
        self.metadata = dict(first.metadata)
        self._obs_dtype = space_dtype(self.single_observation_space)
        self._stats = EpisodeStats(self.num_envs)
        self._discrete = isinstance(self.single_action_space, gym.spaces.Discrete)

    def reset(self, seed: int | None = None) -> torch.Tensor:
        self._stats.reset()
        obs = [env.reset(seed=None if seed is None else seed + i)[0] for i, env in enumerate(self.envs)]
        if seed is not None:
            for i, env in enumerate(self.envs):
                env.action_space.seed(seed + i)
        return self._to_tensor(np.stack(obs))

    def step(self, actions: torch.Tensor):
        check_actions(actions, self.single_action_space, self.num_envs)
        actions_np = actions.detach().cpu().numpy()
        obs, final_obs = [], []
        rewards = np.zeros(self.num_envs, dtype=np.float64)
        terminated = np.zeros(self.num_envs, dtype=bool)
        truncated = np.zeros(self.num_envs, dtype=bool)
        for i, env in enumerate(self.envs):
            action = int(actions_np[i]) if self._discrete else actions_np[i]
            o, r, term, trunc, _ = env.step(action)
            rewards[i], terminated[i], truncated[i] = r, term, trunc
            final_obs.append(o)
            if term or trunc:
                o, _ = env.reset()
            obs.append(o)
        done = terminated | truncated
        ep_return, ep_length = self._stats.update(rewards, done)
        info = {
            "final_obs": self._to_tensor(np.stack(final_obs)),
            "episode_return": torch.as_tensor(ep_return, device=self.device),
            "episode_length": torch.as_tensor(ep_length, device=self.device),
        }
        return (
            self._to_tensor(np.stack(obs)),
            torch.as_tensor(rewards, dtype=torch.float32, device=self.device),
            torch.as_tensor(terminated, device=self.device),
            torch.as_tensor(truncated, device=self.device),
            info,
        )

    def render(self) -> np.ndarray | None:
        """An RGB frame ``[H, W, 3]`` uint8 of env 0 (its render_mode must be ``rgb_array``)."""
        return self.envs[0].render()

    def close(self) -> None:
        for env in self.envs:
            env.close()

    def _to_tensor(self, array: np.ndarray) -> torch.Tensor:
        # torch.tensor copies, so no two calls ever return views of the same memory.
        return torch.tensor(array, dtype=self._obs_dtype, device=self.device)


def _is_float_box(space: gym.Space) -> bool:
    return isinstance(space, gym.spaces.Box) and np.issubdtype(space.dtype, np.floating)
