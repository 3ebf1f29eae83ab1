"""The aggregate dataset of behaviour cloning and DAgger: observations with the expert's action.

Frames stay uint8 on the CPU in chunks (one per add) and are joined once per fit; each row remembers
the iteration that added it. Saved and restored whole with the run's checkpoint.
"""

from __future__ import annotations

import torch


class LabelledFrames:
    """Rows of ``(observation [C, H, W] uint8, label [A] float32, iteration int)``."""

    def __init__(self):
        self._obs: list[torch.Tensor] = []
        self._labels: list[torch.Tensor] = []
        self._iterations: list[torch.Tensor] = []

    def __len__(self) -> int:
        return sum(len(x) for x in self._labels)

    def add(self, obs: torch.Tensor, labels: torch.Tensor, iteration: int) -> None:
        """``obs [K, ...]`` and ``labels [K, A]`` (any device; kept on the CPU)."""
        if len(obs) == 0:
            return
        self._obs.append(obs.detach().to("cpu"))
        self._labels.append(labels.detach().to("cpu", torch.float32).reshape(len(obs), -1))
        self._iterations.append(torch.full((len(obs),), iteration, dtype=torch.int32))
        self._join()

    def _join(self) -> None:
        if len(self._obs) > 1:
            self._obs, self._labels, self._iterations = ([torch.cat(x)] for x in (self._obs, self._labels,
                                                                                  self._iterations))

    def tensors(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """``(obs [N, ...], labels [N, A], iteration [N])``."""
        return self._obs[0], self._labels[0], self._iterations[0]

    def counts(self) -> dict[int, int]:
        """Rows added by each iteration."""
        if not self._iterations:
            return {}
        values, counts = torch.unique(self._iterations[0], return_counts=True)
        return dict(zip(values.tolist(), counts.tolist()))

    def state_dict(self) -> dict[str, torch.Tensor]:
        if not self._obs:
            return {}
        obs, labels, iterations = self.tensors()
        return {"obs": obs.contiguous(), "labels": labels.contiguous(), "iterations": iterations.contiguous()}

    def load_state_dict(self, state: dict[str, torch.Tensor]) -> None:
        self._obs, self._labels, self._iterations = [], [], []
        if state:
            self._obs, self._labels, self._iterations = [state["obs"]], [state["labels"]], [state["iterations"]]

    def cut(self) -> None:
        """Nothing to cut: rows are whole (the off-policy replay's resume protocol)."""
