"""Running mean and variance of a stream of batches, kept as tensors on their device."""

from __future__ import annotations

import torch


class RunningMeanStd:
    """Mean and variance over every sample seen, merged batch by batch (Chan et al. 1979).

    Args:
        shape: the shape of one sample, e.g. ``(obs_dim,)`` or ``()`` for scalars.
        device: where the statistics live (the agent's device: no host round trip).
    """

    def __init__(self, shape: tuple[int, ...] = (), device: torch.device | str = "cpu"):
        self.mean = torch.zeros(shape, dtype=torch.float64, device=device)
        self.var = torch.ones(shape, dtype=torch.float64, device=device)
        # A tiny prior count, as SB3 and gymnasium do, so the first batch is not divided by zero.
        self.count = torch.tensor(1e-4, dtype=torch.float64, device=device)

    def update(self, batch: torch.Tensor) -> None:
        """Fold in ``batch`` of shape ``[B, *shape]``."""
        batch = batch.to(torch.float64)
        batch_mean = batch.mean(0)
        batch_var = batch.var(0, unbiased=False)
        batch_count = batch.shape[0]
        delta = batch_mean - self.mean
        total = self.count + batch_count
        self.mean = self.mean + delta * batch_count / total
        m2 = self.var * self.count + batch_var * batch_count + delta.square() * self.count * batch_count / total
        self.var = m2 / total
        self.count = total

    def state_dict(self) -> dict[str, torch.Tensor]:
        return {"mean": self.mean.clone(), "var": self.var.clone(), "count": self.count.clone()}

    def load_state_dict(self, state: dict[str, torch.Tensor]) -> None:
        device = self.mean.device
        if tuple(state["mean"].shape) != tuple(self.mean.shape):
            from sensorimotor.errors import UserError

            raise UserError(
                f"normalizer statistics have shape {tuple(state['mean'].shape)}, this env needs "
                f"{tuple(self.mean.shape)}: the checkpoint was trained on another environment."
            )
        self.mean = state["mean"].to(device, torch.float64)
        self.var = state["var"].to(device, torch.float64)
        self.count = state["count"].to(device, torch.float64)
