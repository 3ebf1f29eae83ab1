"""Actor-critic with separate MLPs: Gaussian (state-independent log-std) or categorical actions."""

from __future__ import annotations

import gymnasium as gym
import torch
from torch import nn

from sensorimotor.policies.modules import MLP
from sensorimotor.policies.modules import distributions as D


class ActorCritic(nn.Module):
    """``obs [B, obs_dim] -> (action parameters [B, A or K], value [B])``.

    Args:
        obs_dim: flat observation size.
        action_space: ``Box`` (Gaussian, mean from the actor, one learned log-std per dimension) or
            ``Discrete`` (logits).
        hidden: hidden layer sizes, shared by actor and critic (each has its own weights).
        log_std_init: initial log-std of the Gaussian.
    """

    def __init__(
        self, obs_dim: int, action_space: gym.Space, hidden: tuple[int, ...] = (64, 64),
        activation: str = "tanh", log_std_init: float = 0.0, ortho_init: bool = True,
    ):
        super().__init__()
        self.continuous = isinstance(action_space, gym.spaces.Box)
        action_dim = int(action_space.shape[0]) if self.continuous else int(action_space.n)
        self.actor = MLP(obs_dim, action_dim, hidden, activation, ortho_init, output_gain=0.01)
        self.critic = MLP(obs_dim, 1, hidden, activation, ortho_init, output_gain=1.0)
        self.log_std = nn.Parameter(torch.full((action_dim,), float(log_std_init)), requires_grad=self.continuous)

    def forward(self, obs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.actor(obs), self.critic(obs).squeeze(-1)

    def value(self, obs: torch.Tensor) -> torch.Tensor:
        return self.critic(obs).squeeze(-1)

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
