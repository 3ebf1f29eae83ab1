"""``sync`` backend: N gymnasium envs stepped in this process, with same-step autoreset.

Works for any gymnasium env, so every registered id reaches every agent through it. Observations may
be a ``Box`` or a ``Dict`` of boxes (then they leave as a dict of tensors). Per-step info values that
an env declares in ``metadata["info_keys"]`` (``name -> numpy dtype``, one scalar per env, e.g.
``{"grasp_success": "bool"}``) come out dense as ``info[name]`` ``[N]``, taken from the step that
ended an episode before its reset. Keys also named in ``metadata["observation_info_keys"]`` describe
the observation returned (e.g. the driving expert's steering for it, DAgger's label): for an env that
reset they come from the reset's info, so they always match ``obs``.
"""

from __future__ import annotations

from typing import Callable

import gymnasium as gym
import numpy as np
import torch

from sensorimotor.envs.core import EpisodeStats, check_actions
from sensorimotor.envs.observations import ObservationLayout, as_backend_space


class SyncVecEnv:
    """N gymnasium envs behind the VecEnv contract (see ``envs/core.py``)."""

    def __init__(self, env_fns: list[Callable[[], gym.Env]], device: torch.device = torch.device("cpu")):
        self.envs = [fn() for fn in env_fns]
        self.num_envs = len(self.envs)
        self.device = torch.device(device)
        first = self.envs[0]
        self.single_observation_space = as_backend_space(first.observation_space)
        self.single_action_space = first.action_space
        self.metadata = dict(first.metadata)
        self._layout = ObservationLayout(self.single_observation_space)
        self._info_keys = dict(self.metadata.get("info_keys", {}))
        self._observation_keys = [k for k in self.metadata.get("observation_info_keys", ()) if k in self._info_keys]
        self._stats = EpisodeStats(self.num_envs)
        self._discrete = isinstance(self.single_action_space, gym.spaces.Discrete)

    def reset(self, seed: int | None = None) -> torch.Tensor:
        self._stats.reset()
        obs = [env.reset(seed=None if seed is None else seed + i)[0] for i, env in enumerate(self.envs)]
        if seed is not None:
            for i, env in enumerate(self.envs):
                env.action_space.seed(seed + i)
        return self._layout.to_tensor(self._layout.stack(obs), self.device)

    def step(self, actions: torch.Tensor):
        check_actions(actions, self.single_action_space, self.num_envs)
        actions_np = actions.detach().cpu().numpy()
        obs, final_obs = [], []
        rewards = np.zeros(self.num_envs, dtype=np.float64)
        terminated = np.zeros(self.num_envs, dtype=bool)
        truncated = np.zeros(self.num_envs, dtype=bool)
        extra = {k: np.zeros(self.num_envs, dtype=dtype) for k, dtype in self._info_keys.items()}
        for i, env in enumerate(self.envs):
            action = int(actions_np[i]) if self._discrete else actions_np[i]
            o, r, term, trunc, step_info = env.step(action)
            rewards[i], terminated[i], truncated[i] = r, term, trunc
            for k, values in extra.items():
                values[i] = step_info.get(k, 0)
            final_obs.append(o)
            if term or trunc:
                o, reset_info = env.reset()
                for k in self._observation_keys:
                    extra[k][i] = reset_info.get(k, 0)
            obs.append(o)
        done = terminated | truncated
        ep_return, ep_length = self._stats.update(rewards, done)
        info = {
            "final_obs": self._layout.to_tensor(self._layout.stack(final_obs), self.device),
            "episode_return": torch.as_tensor(ep_return, device=self.device),
            "episode_length": torch.as_tensor(ep_length, device=self.device),
            **{k: torch.as_tensor(v, device=self.device) for k, v in extra.items()},
        }
        return (
            self._layout.to_tensor(self._layout.stack(obs), self.device),
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
