"""The action distribution shared by the actor-critic models: Gaussian or categorical."""

from __future__ import annotations

import gymnasium as gym
import torch
from torch import nn

from sensorimotor.policies.modules import distributions as D


class ActionDistribution(nn.Module):
    """Holds the learned log-std of a Gaussian policy (a frozen dummy for discrete actions) and turns
    action parameters (means ``[B, A]`` or logits ``[B, K]``) into samples, log-probs and entropies.

    Subclasses call ``super().__init__(action_space, log_std_init)`` and set their networks after.
    """

    def __init__(self, action_space: gym.Space, log_std_init: float = 0.0):
        super().__init__()
        self.continuous = isinstance(action_space, gym.spaces.Box)
        self.action_dim = int(action_space.shape[0]) if self.continuous else int(action_space.n)
        self.log_std = nn.Parameter(torch.full((self.action_dim,), float(log_std_init)),
                                    requires_grad=self.continuous)

    def log_prob_entropy(self, action_params, actions, log_std=None):
        """``(log_prob [B], entropy [B])`` of ``actions`` under the distribution at ``action_params``.

        ``log_std`` may be passed in explicitly so a functional call can differentiate through it.
        """
        if self.continuous:
            log_std = self.log_std if log_std is None else log_std
            return (D.gaussian_log_prob(action_params, log_std, actions),
                    D.gaussian_entropy(log_std, action_params.shape[0]))
        return D.categorical_log_prob(action_params, actions), D.categorical_entropy(action_params)

    def sample(self, action_params: torch.Tensor, deterministic: bool = False) -> torch.Tensor:
        if self.continuous:
            return action_params if deterministic else D.gaussian_sample(action_params, self.log_std)
        return action_params.argmax(-1) if deterministic else D.categorical_sample(action_params)
