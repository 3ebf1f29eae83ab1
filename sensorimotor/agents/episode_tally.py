"""Evaluation episodes from a vector env without favouring the short ones."""

from __future__ import annotations

import numpy as np
import torch


class EpisodeTally:
    """Collects ``episodes`` finished episodes from ``num_envs`` envs, at most a fixed share from each.

    Taking the first ``episodes`` that finish would favour short ones: an env whose agent dies early
    finishes several episodes while another plays one long one, so a policy that often dies early but
    sometimes survives the whole episode (Doom health_gathering) would be scored by its deaths. Env
    ``i`` contributes its first ``(episodes + i) // num_envs`` episodes, as SB3's ``evaluate_policy``.
    """

    def __init__(self, num_envs: int, episodes: int):
        self.targets = np.array([(episodes + i) // num_envs for i in range(num_envs)])
        self.counts = np.zeros(num_envs, dtype=int)
        self.returns: list[float] = []
        self.lengths: list[int] = []
        self.terminated: list[bool] = []

    @property
    def complete(self) -> bool:
        return bool((self.counts >= self.targets).all())

    def add(self, ended: torch.Tensor, returns: torch.Tensor, lengths: torch.Tensor, terminated: torch.Tensor) -> None:
        """One vector step: ``ended [N]`` bool (an episode finished), its ``returns``, ``lengths`` and
        whether it ``terminated`` (rather than hit its time limit), each ``[N]``."""
        ended = ended.cpu().numpy().astype(bool)
        for i in np.flatnonzero(ended & (self.counts < self.targets)):
            self.returns.append(float(returns[i]))
            self.lengths.append(int(lengths[i]))
            self.terminated.append(bool(terminated[i]))
            self.counts[i] += 1
