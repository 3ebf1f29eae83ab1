"""Actor-critic with separate MLPs: Gaussian (state-independent log-std) or categorical actions."""

from __future__ import annotations

import gymnasium as gym
import torch

from sensorimotor.policies.models.action_distribution import ActionDistribution
from sensorimotor.policies.modules import MLP


class ActorCritic(ActionDistribution):
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
        super().__init__(action_space, log_std_init)
        self.actor = MLP(obs_dim, self.action_dim, hidden, activation, ortho_init, output_gain=0.01)
        self.critic = MLP(obs_dim, 1, hidden, activation, ortho_init, output_gain=1.0)

    def forward(self, obs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.actor(obs), self.critic(obs).squeeze(-1)

    def value(self, obs: torch.Tensor) -> torch.Tensor:
        return self.critic(obs).squeeze(-1)
