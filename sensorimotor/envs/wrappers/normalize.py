"""Observation normalization and reward scaling with statistics on the env's device.

Both are trained while ``training`` is True and frozen otherwise (evaluation, deployment); their
``state_dict`` goes into every checkpoint so a resumed or evaluated run sees the same inputs.
"""

from __future__ import annotations

import torch

from sensorimotor.envs.wrappers.base import VecEnvWrapper
from sensorimotor.utils.running_stats import RunningMeanStd


class NormalizeObservation(VecEnvWrapper):
    """``obs -> clip((obs - mean) / sqrt(var + eps), -clip, clip)``, ``final_obs`` too."""

    def __init__(self, env, clip: float = 10.0, eps: float = 1e-8):
        super().__init__(env)
        self.stats = RunningMeanStd(env.single_observation_space.shape, env.device)
        self.clip, self.eps, self.training = clip, eps, True

    def normalize(self, obs: torch.Tensor) -> torch.Tensor:
        std = torch.sqrt(self.stats.var + self.eps)
        return ((obs - self.stats.mean) / std).clamp(-self.clip, self.clip).to(torch.float32)

    def reset(self, seed: int | None = None):
        obs = self.env.reset(seed=seed)
        if self.training:
            self.stats.update(obs)
        return self.normalize(obs)

    def step(self, actions):
        obs, reward, terminated, truncated, info = self.env.step(actions)
        if self.training:
            self.stats.update(obs)
        info = dict(info, final_obs=self.normalize(info["final_obs"]))
        return self.normalize(obs), reward, terminated, truncated, info

    def state_dict(self) -> dict[str, torch.Tensor]:
        return self.stats.state_dict()

    def load_state_dict(self, state: dict[str, torch.Tensor]) -> None:
        self.stats.load_state_dict(state)


class ScaleReward(VecEnvWrapper):
    """Divides rewards by the running std of the discounted return (as SB3's VecNormalize).

    The return accumulator restarts at every episode end; the reward is then clipped to ``clip``.
    Episode statistics in ``info`` stay on the raw reward.
    """

    def __init__(self, env, gamma: float, clip: float = 10.0, eps: float = 1e-8):
        super().__init__(env)
        self.stats = RunningMeanStd((), env.device)
        self.gamma, self.clip, self.eps, self.training = gamma, clip, eps, True
        self._returns = torch.zeros(env.num_envs, dtype=torch.float64, device=env.device)

    def reset(self, seed: int | None = None):
        self._returns.zero_()
        return self.env.reset(seed=seed)

    def step(self, actions):
        obs, reward, terminated, truncated, info = self.env.step(actions)
        if self.training:
            self._returns = self._returns * self.gamma + reward
            self.stats.update(self._returns)
            self._returns = self._returns.masked_fill(terminated | truncated, 0.0)
        scaled = (reward / torch.sqrt(self.stats.var + self.eps)).clamp(-self.clip, self.clip)
        return obs, scaled.to(torch.float32), terminated, truncated, info

    def state_dict(self) -> dict[str, torch.Tensor]:
        return self.stats.state_dict()

    def load_state_dict(self, state: dict[str, torch.Tensor]) -> None:
        self.stats.load_state_dict(state)
