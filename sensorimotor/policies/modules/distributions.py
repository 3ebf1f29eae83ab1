"""Action distributions as pure functions on their parameters (no torch.distributions objects:
they validate arguments on every call and cannot be traced into one compiled graph)."""

from __future__ import annotations

import math

import torch

_HALF_LOG_2PI = 0.5 * math.log(2 * math.pi)


def gaussian_log_prob(mean: torch.Tensor, log_std: torch.Tensor, actions: torch.Tensor) -> torch.Tensor:
    """Log-density ``[B]`` of ``actions`` ``[B, A]`` under a diagonal Gaussian (summed over A)."""
    z = (actions - mean) * torch.exp(-log_std)
    return (-0.5 * z.square() - log_std - _HALF_LOG_2PI).sum(-1)


def gaussian_entropy(log_std: torch.Tensor, batch: int) -> torch.Tensor:
    """Entropy ``[B]`` of a diagonal Gaussian with state-independent ``log_std`` ``[A]``."""
    return (log_std + 0.5 + _HALF_LOG_2PI).sum(-1).expand(batch)


def gaussian_sample(mean: torch.Tensor, log_std: torch.Tensor) -> torch.Tensor:
    return mean + torch.randn_like(mean) * log_std.exp()


def categorical_log_prob(logits: torch.Tensor, actions: torch.Tensor) -> torch.Tensor:
    """Log-probability ``[B]`` of integer ``actions`` ``[B]`` under ``logits`` ``[B, K]``."""
    log_p = torch.log_softmax(logits, -1)
    return log_p.gather(-1, actions.long().unsqueeze(-1)).squeeze(-1)


def categorical_entropy(logits: torch.Tensor) -> torch.Tensor:
    log_p = torch.log_softmax(logits, -1)
    return -(log_p.exp() * log_p).sum(-1)


def categorical_sample(logits: torch.Tensor) -> torch.Tensor:
    """``[B]`` samples by the Gumbel-max trick: ``argmax(logits + Gumbel noise)`` has the softmax's
    law and, unlike ``torch.multinomial``, compiles into the surrounding graph."""
    uniform = torch.rand_like(logits).clamp_(min=1e-20)
    return (logits - torch.log(-torch.log(uniform))).argmax(-1)
