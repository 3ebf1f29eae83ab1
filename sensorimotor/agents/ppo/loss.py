"""The PPO loss as a pure function returning its terms by name."""

from __future__ import annotations

import torch


def ppo_loss(
    log_probs: torch.Tensor, entropy: torch.Tensor, values: torch.Tensor,
    old_log_probs: torch.Tensor, old_values: torch.Tensor, advantages: torch.Tensor,
    returns: torch.Tensor, clip_range: float, clip_range_vf: float | None, ent_coef: float,
    vf_coef: float, normalize_advantage: bool,
) -> dict[str, torch.Tensor]:
    """Clipped surrogate + value loss - entropy bonus, all inputs ``[B]``.

    ``value`` is ``mean((returns - V)^2)`` (SB3's convention, so zoo ``vf_coef`` values carry over),
    with PPO2-style clipping around ``old_values`` when ``clip_range_vf`` is set.

    Returns:
        ``total`` (to minimize), ``policy``, ``value``, ``entropy`` (mean entropy, a bonus),
        ``approx_kl`` (``mean((r - 1) - log r)``, Schulman's low-variance estimator) and
        ``clip_fraction`` (share of samples whose ratio was clipped).
    """
    if normalize_advantage:
        advantages = (advantages - advantages.mean()) / (advantages.std() + 1e-8)
    log_ratio = log_probs - old_log_probs
    ratio = log_ratio.exp()
    surrogate = torch.min(ratio * advantages, ratio.clamp(1 - clip_range, 1 + clip_range) * advantages)
    policy = -surrogate.mean()
    if clip_range_vf is None:
        value = (returns - values).square().mean()
    else:
        clipped = old_values + (values - old_values).clamp(-clip_range_vf, clip_range_vf)
        value = torch.max((returns - values).square(), (returns - clipped).square()).mean()
    mean_entropy = entropy.mean()
    with torch.no_grad():
        approx_kl = ((ratio - 1) - log_ratio).mean()
        clip_fraction = ((ratio - 1).abs() > clip_range).float().mean()
    return {
        "total": policy + vf_coef * value - ent_coef * mean_entropy,
        "policy": policy,
        "value": value,
        "entropy": mean_entropy,
        "approx_kl": approx_kl,
        "clip_fraction": clip_fraction,
    }


LOSS_TERMS = ("total", "policy", "value", "entropy", "approx_kl", "clip_fraction")
