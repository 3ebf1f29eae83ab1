"""The cross-entropy method as QT-Opt's argmax over continuous actions (Kalashnikov et al. 2018, 4.2).

For a batch of ``B`` states at once, with ``score(actions [B, S, A]) -> [B, S]``:

    iteration 0:   S actions uniform in [-1, 1]^A           (the whole action box)
    iteration k>0: S actions ~ N(mu, sigma^2), clipped to [-1, 1]
    each:          keep the E best of the S; mu, sigma <- their mean and standard deviation per dimension
    result:        the best action scored in any iteration, and its score

Binary components (QT-Opt's gripper close and episode terminate) are sampled like the others and
snapped to -1 or +1 before scoring, so the Q-function only ever sees the two values the env acts on.
Every iteration is one call of ``score`` for the whole batch: no Python loop over states or samples.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import torch

from sensorimotor.errors import check


@dataclass(frozen=True)
class CEMSettings:
    """QT-Opt's numbers by default: 64 samples, 6 elites, 2 iterations."""

    samples: int = 64
    elites: int = 6
    iterations: int = 2
    min_std: float = 0.05
    """Floor of the fitted standard deviation (a collapsed population stops exploring the box)."""

    def validate(self, prefix: str = "cem") -> None:
        check(self.samples >= 2, f"{prefix}_samples must be at least 2, got {self.samples}.")
        check(1 <= self.elites <= self.samples,
              f"{prefix}_elites must be 1..{prefix}_samples ({self.samples}), got {self.elites}: the population "
              "cannot be smaller than the elites.")
        check(self.iterations >= 1, f"{prefix}_iterations must be at least 1, got {self.iterations}.")
        check(self.min_std >= 0.0, f"{prefix}_min_std must be >= 0, got {self.min_std}.")


def snap_binary(actions: torch.Tensor, binary_mask: torch.Tensor | None) -> torch.Tensor:
    """``actions [..., A]`` with the components where ``binary_mask [A]`` is True replaced by their sign
    (+1 for >= 0, else -1)."""
    if binary_mask is None:
        return actions
    signs = torch.where(actions >= 0, 1.0, -1.0).to(actions.dtype)
    return torch.where(binary_mask, signs, actions)


def cem_noise(batch: int, action_dim: int, settings: CEMSettings, generator: torch.Generator | None = None,
              device: torch.device | str = "cpu") -> tuple[torch.Tensor, torch.Tensor]:
    """The CEM's random draws: ``(uniform [B, S, A] in [-1, 1], normal [I - 1, B, S, A])``. ``B = 1``
    gives one population that every state of a batch shares (broadcast): a fixed, deterministic CEM."""
    shape = (batch, settings.samples, action_dim)
    uniform = torch.rand(shape, generator=generator, device=device) * 2 - 1
    normal = torch.randn((settings.iterations - 1, *shape), generator=generator, device=device)
    return uniform, normal


def cem_argmax(score: Callable[[torch.Tensor], torch.Tensor], batch: int, action_dim: int,
               settings: CEMSettings = CEMSettings(), binary_mask: torch.Tensor | None = None,
               generator: torch.Generator | None = None, device: torch.device | str = "cpu",
               noise: tuple[torch.Tensor, torch.Tensor] | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Approximately ``argmax_a score(a)`` for ``batch`` states at once.

    Args:
        score: ``actions [B, S, A]`` in [-1, 1] -> scores ``[B, S]`` (higher is better).
        batch, action_dim: ``B`` and ``A``.
        binary_mask: ``[A]`` bool, the components snapped to +-1 (None: all continuous).
        noise: the draws to use (:func:`cem_noise`, batch ``B`` or 1); default fresh ones.

    Returns:
        ``(actions [B, A], scores [B])``: the best action evaluated and its score.
    """
    s, e = settings.samples, settings.elites
    uniform, normal = noise if noise is not None else cem_noise(batch, action_dim, settings, generator, device)
    candidates = uniform.expand(batch, s, action_dim)
    best_action = best_score = mean = std = None
    for iteration in range(settings.iterations):
        if iteration > 0:
            candidates = (mean + std * normal[iteration - 1]).clamp(-1.0, 1.0)
        candidates = snap_binary(candidates, binary_mask)
        scores = score(candidates)  # [B, S]
        top_scores, top = scores.topk(e, dim=1)  # sorted, best first
        elites = candidates.gather(1, top[..., None].expand(-1, -1, action_dim))  # [B, E, A]
        mean = elites.mean(dim=1, keepdim=True)
        std = (elites.std(dim=1, keepdim=True, unbiased=False) if e > 1 else torch.zeros_like(mean))
        std = std.clamp_min(settings.min_std)
        if best_score is None:
            best_action, best_score = elites[:, 0], top_scores[:, 0]
        else:
            better = top_scores[:, 0] > best_score
            best_action = torch.where(better[:, None], elites[:, 0], best_action)
            best_score = torch.where(better, top_scores[:, 0], best_score)
    return best_action, best_score
