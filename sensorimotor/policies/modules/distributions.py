"""Action distributions as pure functions on their parameters (no torch.distributions objects:
they validate arguments on every call and cannot be traced into one compiled graph)."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

_HALF_LOG_2PI = 0.5 * math.log(2 * math.pi)
_BETA_EDGE = 1e-6
"""Beta samples and actions are kept this far inside (0, 1): float32 can round a draw onto the edge,
where the log-density is infinite."""


def gaussian_log_prob(mean: torch.Tensor, log_std: torch.Tensor, actions: torch.Tensor) -> torch.Tensor:
    """Log-density ``[B]`` of ``actions`` ``[B, A]`` under a diagonal Gaussian (summed over A)."""
    z = (actions - mean) * torch.exp(-log_std)
    return (-0.5 * z.square() - log_std - _HALF_LOG_2PI).sum(-1)


def gaussian_entropy(log_std: torch.Tensor, batch: int) -> torch.Tensor:
    """Entropy ``[B]`` of a diagonal Gaussian with state-independent ``log_std`` ``[A]``."""
    return (log_std + 0.5 + _HALF_LOG_2PI).sum(-1).expand(batch)


def gaussian_sample(mean: torch.Tensor, log_std: torch.Tensor) -> torch.Tensor:
    return mean + torch.randn_like(mean) * log_std.exp()


def beta_concentrations(params: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """``params [B, 2A]`` -> ``(alpha, beta)``, ``[B, A]`` each, both above 1 (``softplus + 1``, as Chou
    et al. 2017: a unimodal density that vanishes at the bounds). Example: params 0 -> 1 + log 2 each."""
    a, b = params.chunk(2, dim=-1)
    return F.softplus(a) + 1.0, F.softplus(b) + 1.0


def _log_beta_function(alpha: torch.Tensor, beta: torch.Tensor) -> torch.Tensor:
    return torch.lgamma(alpha) + torch.lgamma(beta) - torch.lgamma(alpha + beta)


def beta_log_prob(alpha: torch.Tensor, beta: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """Log-density ``[B]`` of ``x [B, A]`` in (0, 1) under independent Beta(alpha, beta) (summed over A).
    Example: alpha = beta = 2, x = 0.5 -> log(6 x 0.5 x 0.5) = log 1.5 per dimension."""
    x = x.clamp(_BETA_EDGE, 1.0 - _BETA_EDGE)
    return ((alpha - 1.0) * torch.log(x) + (beta - 1.0) * torch.log1p(-x) - _log_beta_function(alpha, beta)).sum(-1)


def beta_entropy(alpha: torch.Tensor, beta: torch.Tensor) -> torch.Tensor:
    """Differential entropy ``[B]`` of independent Beta(alpha, beta) on (0, 1), summed over A.
    Example: alpha = beta = 1 (uniform) -> 0."""
    total = alpha + beta
    return (_log_beta_function(alpha, beta) - (alpha - 1.0) * torch.digamma(alpha)
            - (beta - 1.0) * torch.digamma(beta) + (total - 2.0) * torch.digamma(total)).sum(-1)


def beta_sample(alpha: torch.Tensor, beta: torch.Tensor) -> torch.Tensor:
    """``[B, A]`` draws in (0, 1): ``G_a / (G_a + G_b)`` of two unit-scale Gamma draws."""
    g_alpha, g_beta = torch._standard_gamma(alpha), torch._standard_gamma(beta)
    return (g_alpha / (g_alpha + g_beta)).clamp(_BETA_EDGE, 1.0 - _BETA_EDGE)


def beta_mean(alpha: torch.Tensor, beta: torch.Tensor) -> torch.Tensor:
    return alpha / (alpha + beta)


def beta_mode(alpha: torch.Tensor, beta: torch.Tensor) -> torch.Tensor:
    """The density's peak ``(alpha - 1) / (alpha + beta - 2)`` in [0, 1] (both concentrations are above 1
    here, so it is unique). Example: alpha 3, beta 2 -> 2/3 where the mean is 3/5; alpha 1.5, beta 6 ->
    1/11 where the mean is 0.2. A softplus that underflows makes both 1 (uniform, no peak): 0 then."""
    return ((alpha - 1.0) / (alpha + beta - 2.0).clamp_min(1e-12)).clamp(0.0, 1.0)


def beta_point(alpha: torch.Tensor, beta: torch.Tensor, use_mode: torch.Tensor) -> torch.Tensor:
    """One action ``[B, A]`` in [0, 1] per state: the mode where ``use_mode [A]`` (bool) is set, the mean
    elsewhere."""
    return torch.where(use_mode, beta_mode(alpha, beta), beta_mean(alpha, beta))


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
