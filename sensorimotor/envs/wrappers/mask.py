"""Keep only some observation entries: the partially observed (``pomdp``) variants of tasks.

Two forms share one index list: :class:`MaskObservation` for a single gymnasium env (the ``sync``
backend, ``make``) and :class:`MaskVecObservation` for a native VecEnv backend (``final_obs`` too).
"""

from __future__ import annotations

from collections.abc import Sequence

import gymnasium as gym
import numpy as np
import torch

from sensorimotor.envs.wrappers.base import VecEnvWrapper


def masked_space(space: gym.spaces.Box, keep: Sequence[int]) -> gym.spaces.Box:
    keep = list(keep)
    return gym.spaces.Box(space.low[keep], space.high[keep], dtype=space.dtype)


class MaskObservation(gym.ObservationWrapper, gym.utils.RecordConstructorArgs):
    """``obs [D] -> obs[keep]`` for a single env with a flat ``Box`` observation. Its constructor
    arguments are recorded, so ``env.spec.make()`` (Gymnasium's env checker) rebuilds it."""

    def __init__(self, env: gym.Env, keep: Sequence[int]):
        gym.utils.RecordConstructorArgs.__init__(self, keep=[int(i) for i in keep])
        super().__init__(env)
        self.keep = np.asarray(keep, dtype=np.int64)
        self.observation_space = masked_space(env.observation_space, keep)

    def observation(self, observation: np.ndarray) -> np.ndarray:
        return observation[self.keep]


class MaskVecObservation(VecEnvWrapper):
    """``obs [N, D] -> obs[:, keep]`` on the device, ``info["final_obs"]`` alike."""

    def __init__(self, env, keep: Sequence[int]):
        super().__init__(env)
        self.keep = torch.as_tensor(list(keep), dtype=torch.long, device=env.device)
        self.single_observation_space = masked_space(env.single_observation_space, keep)

    def reset(self, seed: int | None = None):
        return self.env.reset(seed=seed)[:, self.keep]

    def step(self, actions):
        obs, reward, terminated, truncated, info = self.env.step(actions)
        info = dict(info, final_obs=info["final_obs"][:, self.keep])
        return obs[:, self.keep], reward, terminated, truncated, info
