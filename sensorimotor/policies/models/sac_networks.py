"""SAC's networks: a tanh-squashed Gaussian actor and twin Q critics evaluated as one batched GEMM
per layer (both critics' weights stacked, ``torch.baddbmm``), so a critic pass is three kernels, not six."""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional as F

from sensorimotor.policies.export import ActorGraph
from sensorimotor.policies.models.multi_input import PartsGraph

LOG_STD_MIN, LOG_STD_MAX = -20.0, 2.0  # SB3's and the SAC paper's code's clamp


class SquashedGaussianActor(nn.Module):
    """``obs [B, D] -> (mean [B, A], log_std [B, A])`` of the Gaussian before the tanh; ReLU MLP trunk."""

    def __init__(self, obs_dim: int, action_dim: int, hidden: tuple[int, ...] = (256, 256)):
        super().__init__()
        layers, width = [], obs_dim
        for size in hidden:
            layers += [nn.Linear(width, size), nn.ReLU()]
            width = size
        self.trunk = nn.Sequential(*layers)
        self.mean = nn.Linear(width, action_dim)
        self.log_std = nn.Linear(width, action_dim)

    def forward(self, obs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        x = self.trunk(obs)
        return self.mean(x), self.log_std(x).clamp(LOG_STD_MIN, LOG_STD_MAX)


def squashed_sample(mean: torch.Tensor, log_std: torch.Tensor, noise: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Reparameterized sample ``a = tanh(mean + std * noise)`` in (-1, 1) and its log-density ``[B]``.

    ``log p(a) = log N(u; mean, std) - sum log(1 - tanh(u)^2)``, the correction written as
    ``2 (log 2 - u - softplus(-2u))``, which stays finite where ``tanh(u)`` rounds to +-1.
    Example: mean 0, log_std 0, noise 0 -> a = 0 and log p = -0.5 log(2 pi) per dimension.
    """
    u = mean + log_std.exp() * noise
    gaussian = (-0.5 * noise.pow(2) - log_std - 0.5 * math.log(2 * math.pi)).sum(-1)
    correction = (2.0 * (math.log(2.0) - u - F.softplus(-2.0 * u))).sum(-1)
    return torch.tanh(u), gaussian - correction


class TwinQ(nn.Module):
    """``(obs [B, D], action [B, A]) -> Q [2, B]``: two independent ReLU MLP critics."""

    def __init__(self, obs_dim: int, action_dim: int, hidden: tuple[int, ...] = (256, 256), critics: int = 2):
        super().__init__()
        sizes = [obs_dim + action_dim, *hidden, 1]
        self.weights = nn.ParameterList()
        self.biases = nn.ParameterList()
        for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
            bound = 1.0 / math.sqrt(fan_in)  # nn.Linear's default initialization, per critic
            self.weights.append(nn.Parameter(torch.empty(critics, fan_in, fan_out).uniform_(-bound, bound)))
            self.biases.append(nn.Parameter(torch.empty(critics, 1, fan_out).uniform_(-bound, bound)))

    def forward(self, obs: torch.Tensor, action: torch.Tensor) -> torch.Tensor:
        x = torch.cat([obs, action], dim=-1)
        x = x.unsqueeze(0).expand(self.weights[0].shape[0], *x.shape)
        last = len(self.weights) - 1
        for i, (w, b) in enumerate(zip(self.weights, self.biases)):
            x = torch.baddbmm(b, x, w)
            if i < last:
                x = F.relu(x)
        return x.squeeze(-1)


class DeterministicPolicy(nn.Module):
    """The deployable SAC policy: ``obs [B, D] -> scale * tanh(mean) + bias [B, A]`` in the env's units."""

    def __init__(self, actor: SquashedGaussianActor, scale: torch.Tensor, bias: torch.Tensor):
        super().__init__()
        self.net = actor
        self.register_buffer("scale", scale.clone())
        self.register_buffer("bias", bias.clone())

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        mean, _ = self.net(obs)
        return torch.tanh(mean) * self.scale + self.bias

    def export_actor(self) -> ActorGraph:
        return ActorGraph(self, continuous=True)


class EncodedTwinQ(nn.Module):
    """``({key: [B, ...]}, action [B, A]) -> Q [2, B]``: a ``MultiInputEncoder`` (trained by the critic
    loss only, as in SAC-AE and DrQ) under twin critics; the actor reads its features, detached."""

    def __init__(self, encoder: nn.Module, action_dim: int, hidden: tuple[int, ...] = (256, 256)):
        super().__init__()
        self.encoder = encoder
        self.q = TwinQ(encoder.width, action_dim, hidden)

    def forward(self, obs: dict[str, torch.Tensor], action: torch.Tensor) -> torch.Tensor:
        return self.q(self.encoder(obs), action)


class EncodedDeterministicPolicy(PartsGraph):
    """The deployable SAC policy over a ``Dict`` observation: one input per part (``obs_<key>``) ->
    ``scale * tanh(mean) + bias [B, A]``."""

    def __init__(self, encoder: nn.Module, actor: SquashedGaussianActor, keys: list[str], scale: torch.Tensor,
                 bias: torch.Tensor):
        super().__init__(keys)
        self.encoder, self.net = encoder, actor
        self.register_buffer("scale", scale.clone())
        self.register_buffer("bias", bias.clone())

    def act(self, obs: dict[str, torch.Tensor]) -> torch.Tensor:
        mean, _ = self.net(self.encoder(obs))
        return torch.tanh(mean) * self.scale + self.bias
