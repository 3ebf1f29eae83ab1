"""Return and advantage estimators as pure functions over ``[T, N]`` tensors."""

from __future__ import annotations

import torch


def gae(
    rewards: torch.Tensor,
    values: torch.Tensor,
    next_values: torch.Tensor,
    terminated: torch.Tensor,
    truncated: torch.Tensor,
    gamma: float,
    lam: float,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Generalized advantage estimation (Schulman et al. 2016) with two done flags.

    Args:
        rewards: ``[T, N]`` reward of step t.
        values: ``[T, N]`` V(s_t).
        next_values: ``[T, N]`` V of the state that really followed step t: the final observation
            when the episode ended there (so a time-limit truncation is bootstrapped), else s_{t+1}.
        terminated: ``[T, N]`` bool, the episode ended in a terminal state: no bootstrap.
        truncated: ``[T, N]`` bool, the episode was cut (time limit): bootstrap from next_values.
        gamma: discount; lam: GAE lambda.

    Returns:
        ``(advantages, returns)`` both ``[T, N]``, with ``returns = advantages + values``.
        Advantages never flow across an episode end (terminated or truncated).
    """
    not_terminal = (~terminated).to(values.dtype)
    not_done = (~(terminated | truncated)).to(values.dtype)
    deltas = rewards + gamma * not_terminal * next_values - values
    advantages = torch.empty_like(values)
    running = torch.zeros_like(values[0])
    for t in range(values.shape[0] - 1, -1, -1):
        running = deltas[t] + gamma * lam * not_done[t] * running
        advantages[t] = running
    return advantages, advantages + values

