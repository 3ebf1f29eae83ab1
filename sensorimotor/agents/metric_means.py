"""Means of update metrics between two log rows, summed on the device and read back once per row."""

from __future__ import annotations

import torch


class MetricMeans:
    """``add({"loss": tensor or float, ...})`` after each update; ``pop()`` returns each metric's mean
    over the updates since the last ``pop`` (one host sync for all of them) and starts over.

    Example: ``add({"loss": 1.0}); add({"loss": 3.0}); pop() == {"loss": 2.0}``.
    """

    def __init__(self):
        self._sums: dict[str, torch.Tensor | float] = {}
        self._counts: dict[str, int] = {}

    def add(self, metrics: dict[str, torch.Tensor | float]) -> None:
        for key, value in metrics.items():
            value = value.detach().float() if isinstance(value, torch.Tensor) else float(value)
            self._sums[key] = self._sums[key] + value if key in self._sums else value
            self._counts[key] = self._counts.get(key, 0) + 1

    def pop(self) -> dict[str, float]:
        if not self._sums:
            return {}
        keys = list(self._sums)
        tensors = [k for k in keys if isinstance(self._sums[k], torch.Tensor)]
        values = dict(zip(tensors, torch.stack([self._sums[k] for k in tensors]).tolist())) if tensors else {}
        means = {k: (values[k] if k in values else self._sums[k]) / self._counts[k] for k in keys}
        self._sums, self._counts = {}, {}
        return means
