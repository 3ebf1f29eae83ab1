"""Actor-critics: separate MLPs over flat observations, or one Nature-CNN encoder shared by two heads
over pixels. Gaussian (state-independent log-std), Beta or categorical actions."""

from __future__ import annotations

import gymnasium as gym
import torch

from sensorimotor.policies.export import ActorGraph
from sensorimotor.policies.models.action_distribution import ActionDistribution, Distribution
from sensorimotor.policies.modules import MLP
from sensorimotor.policies.modules.cnn import ConvEncoder
from sensorimotor.policies.models.pilotnet import PilotNet


class ActorCritic(ActionDistribution):
    """``obs [B, obs_dim] -> (action parameters [B, A or K], value [B])``.

    Args:
        obs_dim: flat observation size.
        action_space: ``Box`` (Gaussian, mean from the actor, one learned log-std per dimension; or
            Beta, two concentrations per dimension from the actor) or ``Discrete`` (logits).
        hidden: hidden layer sizes, shared by actor and critic (each has its own weights).
        log_std_init: initial log-std of the Gaussian.
        distribution: ``gaussian`` or ``beta`` for ``Box`` actions (:class:`ActionDistribution`).
    """

    def __init__(
        self, obs_dim: int, action_space: gym.Space, hidden: tuple[int, ...] = (64, 64),
        activation: str = "tanh", log_std_init: float = 0.0, ortho_init: bool = True,
        distribution: Distribution = "gaussian",
    ):
        super().__init__(action_space, log_std_init, distribution)
        self.actor = MLP(obs_dim, self.param_dim, hidden, activation, ortho_init, output_gain=0.01)
        self.critic = MLP(obs_dim, 1, hidden, activation, ortho_init, output_gain=1.0)

    def forward(self, obs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.actor(obs), self.critic(obs).squeeze(-1)

    def export_actor(self) -> ActorGraph:
        return ActorGraph(self.deterministic_head(self.actor), self.continuous)

    def value(self, obs: torch.Tensor) -> torch.Tensor:
        return self.critic(obs).squeeze(-1)


class PixelActorCritic(ActionDistribution):
    """``uint8 [B, C, H, W] -> (action parameters [B, A or K], value [B])`` (SB3's ``CnnPolicy``,
    CleanRL's ``ppo_atari``): the Nature-CNN encoder (orthogonal init) shared by an actor head (gain
    0.01) and a critic head (gain 1); ``hidden`` adds MLP layers to each head (empty: linear heads).

    ``bf16_trunk`` (attribute, off by default): the encoder runs under bfloat16 autocast, forward and
    backward, in acting and in the update alike (so the log-probs PPO's ratio compares come from one
    function); the heads, log-std, losses, weights and Adam stay float32. ``export_actor`` is float32.
    """

    def __init__(self, obs_shape: tuple[int, int, int], action_space: gym.Space, hidden: tuple[int, ...] = (),
                 activation: str = "relu", log_std_init: float = 0.0, ortho_init: bool = True, features: int = 512,
                 distribution: Distribution = "gaussian"):
        super().__init__(action_space, log_std_init, distribution)
        self.encoder = ConvEncoder(obs_shape, features=features, ortho_init=ortho_init)
        self.actor_head = MLP(features, self.param_dim, hidden, activation, ortho_init, output_gain=0.01)
        self.critic_head = MLP(features, 1, hidden, activation, ortho_init, output_gain=1.0)
        self.bf16_trunk = False

    def export_actor(self) -> ActorGraph:
        return ActorGraph(self.deterministic_head(torch.nn.Sequential(self.encoder, self.actor_head)), self.continuous)

    def features(self, obs: torch.Tensor) -> torch.Tensor:
        """``obs [B, C, H, W]`` -> encoder features ``[B, features]`` float32."""
        with torch.autocast(obs.device.type, dtype=torch.bfloat16, enabled=self.bf16_trunk):
            features = self.encoder(obs)
        return features.float()

    def forward(self, obs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        features = self.features(obs)
        return self.actor_head(features), self.critic_head(features).squeeze(-1)

    def value(self, obs: torch.Tensor) -> torch.Tensor:
        return self.critic_head(self.features(obs)).squeeze(-1)


class PilotNetActorCritic(ActionDistribution):
    """``uint8 [B, 3, H, W] -> (action means [B, A], value [B])`` with two PilotNets (Bojarski et al.
    2016): the actor's output is the Gaussian's mean (what ``bc`` regresses, so a BC policy's weights
    load into it unchanged) and the critic is a second PilotNet with one output. Separate networks:
    the value loss cannot disturb features a fine-tuned BC actor already has."""

    def __init__(self, obs_shape: tuple[int, int, int], action_space: gym.Space, log_std_init: float = 0.0):
        super().__init__(action_space, log_std_init)
        if not self.continuous:
            raise ValueError("the PilotNet actor-critic regresses continuous actions")
        self.actor = PilotNet(obs_shape, outputs=self.action_dim)
        self.critic = PilotNet(obs_shape, outputs=1)

    def export_actor(self) -> ActorGraph:
        return ActorGraph(self.actor, self.continuous)

    def forward(self, obs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.actor(obs), self.critic(obs).squeeze(-1)

    def value(self, obs: torch.Tensor) -> torch.Tensor:
        return self.critic(obs).squeeze(-1)
