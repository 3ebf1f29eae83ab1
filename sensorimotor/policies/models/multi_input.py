"""Actor-critic over a ``Dict`` observation (SB3's ``MultiInputPolicy``): camera images and state
vectors together, e.g. the grasping task's ``pixels`` ``[3, H, W]`` and gripper ``state`` ``[3]``."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import torch
from torch import nn

from sensorimotor.errors import check
from sensorimotor.policies.models.action_distribution import ActionDistribution
from sensorimotor.policies.modules import MLP
from sensorimotor.policies.modules.cnn import ConvEncoder


def is_image(space: gym.Space) -> bool:
    return isinstance(space, gym.spaces.Box) and len(space.shape) == 3 and space.dtype == np.uint8


def image_and_vector_keys(space: gym.spaces.Dict) -> tuple[list[str], list[str]]:
    """``(image keys, vector keys)`` of a ``Dict`` space, each in the space's order; anything else is
    refused in one line."""
    images = [k for k, s in space.spaces.items() if is_image(s)]
    vectors = [k for k, s in space.spaces.items() if isinstance(s, gym.spaces.Box) and len(s.shape) == 1]
    other = [k for k in space.spaces if k not in images and k not in vectors]
    check(not other, f"observation parts {other} are neither uint8 [C, H, W] images nor flat vectors; "
          "a multi-input policy takes those two kinds.")
    return images, vectors


class MultiInputActorCritic(ActionDistribution):
    """``{key: [B, ...]} -> (action parameters [B, A or K], value [B])``.

    Each image part goes through its own Nature-CNN encoder (orthogonal init, ``features`` outputs;
    uint8 scaled to [0, 1] inside); the vector parts are concatenated to the image features as they
    are; one trunk of features feeds an actor head (gain 0.01) and a critic head (gain 1).

    Args:
        obs_space: the ``Dict`` observation space of one env.
        action_space: ``Box`` (Gaussian) or ``Discrete``.
        hidden: hidden layers of each head.
    """

    def __init__(self, obs_space: gym.spaces.Dict, action_space: gym.Space, hidden: tuple[int, ...] = (256,),
                 activation: str = "relu", log_std_init: float = 0.0, ortho_init: bool = True, features: int = 256):
        super().__init__(action_space, log_std_init)
        self.image_keys, self.vector_keys = image_and_vector_keys(obs_space)
        self.encoders = nn.ModuleDict({k: ConvEncoder(tuple(obs_space[k].shape), features=features, ortho_init=ortho_init)
                                       for k in self.image_keys})
        width = features * len(self.image_keys) + sum(int(obs_space[k].shape[0]) for k in self.vector_keys)
        self.actor_head = MLP(width, self.action_dim, hidden, activation, ortho_init, output_gain=0.01)
        self.critic_head = MLP(width, 1, hidden, activation, ortho_init, output_gain=1.0)

    def features(self, obs: dict[str, torch.Tensor]) -> torch.Tensor:
        """``[B, width]``: image features, then the vector parts."""
        parts = [self.encoders[k](obs[k]) for k in self.image_keys] + [obs[k].float() for k in self.vector_keys]
        return torch.cat(parts, dim=-1)

    def forward(self, obs: dict[str, torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
        features = self.features(obs)
        return self.actor_head(features), self.critic_head(features).squeeze(-1)

    def value(self, obs: dict[str, torch.Tensor]) -> torch.Tensor:
        return self.critic_head(self.features(obs)).squeeze(-1)


MAX_EXPORTED_PARTS = 4


class PartsGraph(nn.Module):
    """A deployable graph over a ``Dict`` observation: one input per part (``obs_<key>``, in ``keys``
    order), handed to :meth:`act` as a dict. ``forward`` names its parameters (``part0``...):
    ``torch.export`` cannot trace ``*parts``."""

    output_names = ["action"]
    stateful = False

    def __init__(self, keys: list[str]):
        super().__init__()
        check(len(keys) <= MAX_EXPORTED_PARTS, f"export takes up to {MAX_EXPORTED_PARTS} observation parts, "
              f"this policy reads {len(keys)}.")
        self.keys = list(keys)
        self.input_names = [f"obs_{k}" for k in self.keys]

    def forward(self, part0: torch.Tensor, part1: torch.Tensor | None = None, part2: torch.Tensor | None = None,
                part3: torch.Tensor | None = None) -> torch.Tensor:
        return self.act(dict(zip(self.keys, (part0, part1, part2, part3))))

    def act(self, obs: dict[str, torch.Tensor]) -> torch.Tensor:
        raise NotImplementedError


class MultiInputActor(PartsGraph):
    """PPO's deterministic action over a ``Dict`` observation: the Gaussian's mean clamped to the
    action bounds, or the argmax."""

    def __init__(self, model: MultiInputActorCritic, keys: list[str], action_space: gym.Space):
        super().__init__(keys)
        self.model = model
        self.continuous = model.continuous
        if self.continuous:
            self.register_buffer("low", torch.as_tensor(action_space.low, dtype=torch.float32))
            self.register_buffer("high", torch.as_tensor(action_space.high, dtype=torch.float32))

    def act(self, obs: dict[str, torch.Tensor]) -> torch.Tensor:
        action_params = self.model.actor_head(self.model.features(obs))
        if self.continuous:
            return torch.maximum(torch.minimum(action_params, self.high), self.low)
        return action_params.argmax(-1)


class MultiInputEncoder(nn.Module):
    """``{key: [B, ...]} -> features [B, F]`` for off-policy critics (SAC from pixels): each image part
    through a Nature-CNN, a linear layer to ``features`` and LayerNorm + tanh (SAC-AE's and DrQ's
    bounded features, Yarats et al. 2021), the vector parts appended as they are."""

    def __init__(self, obs_space: gym.spaces.Dict, features: int = 50):
        super().__init__()
        self.image_keys, self.vector_keys = image_and_vector_keys(obs_space)
        self.convs = nn.ModuleDict({k: ConvEncoder(tuple(obs_space[k].shape), features=features) for k in self.image_keys})
        self.norms = nn.ModuleDict({k: nn.LayerNorm(features) for k in self.image_keys})
        self.width = features * len(self.image_keys) + sum(int(obs_space[k].shape[0]) for k in self.vector_keys)

    def forward(self, obs: dict[str, torch.Tensor]) -> torch.Tensor:
        images = [torch.tanh(self.norms[k](self.convs[k](obs[k]))) for k in self.image_keys]
        return torch.cat(images + [obs[k].float() for k in self.vector_keys], dim=-1)
