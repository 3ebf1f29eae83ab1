"""Observation layouts: a plain ``Box`` or a ``Dict`` of boxes (multi-modal: pixels + state).

Backends move observations as numpy arrays (stacked over envs, or in shared memory) and hand them to
the agent as torch tensors: one tensor for a ``Box``, a ``dict`` of tensors for a ``Dict``. The layout
knows each part's shape and dtype, so backends need not care which of the two they carry.
Float boxes leave every backend as float32.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import gymnasium as gym
import numpy as np
import torch

from sensorimotor.envs.core import float32_box, space_dtype

Observation = torch.Tensor | dict[str, torch.Tensor]


@dataclass(frozen=True)
class Part:
    """One array of an observation: ``shape`` of a single env's value, numpy and torch dtypes."""

    shape: tuple[int, ...]
    np_dtype: np.dtype
    torch_dtype: torch.dtype

    @property
    def nbytes(self) -> int:
        return int(np.prod(self.shape, dtype=np.int64)) * self.np_dtype.itemsize


def as_backend_space(space: gym.Space) -> gym.Space:
    """``space`` as backends report it: float boxes (also inside a ``Dict``) become float32."""
    if isinstance(space, gym.spaces.Dict):
        return gym.spaces.Dict({k: as_backend_space(s) for k, s in space.spaces.items()})
    if isinstance(space, gym.spaces.Box) and np.issubdtype(space.dtype, np.floating):
        return float32_box(space)
    return space


class ObservationLayout:
    """How the observations of ``space`` (a Box, Discrete or Dict of those) are stored and converted."""

    def __init__(self, space: gym.Space):
        space = as_backend_space(space)
        self.is_dict = isinstance(space, gym.spaces.Dict)
        spaces = space.spaces if self.is_dict else {None: space}
        self.parts: dict[Any, Part] = {}
        for key, s in spaces.items():
            dtype = space_dtype(s)
            self.parts[key] = Part(tuple(s.shape), np.dtype(torch.empty(0, dtype=dtype).numpy().dtype), dtype)

    @property
    def nbytes(self) -> int:
        """Bytes of one env's observation."""
        return sum(p.nbytes for p in self.parts.values())

    def stack(self, observations: list) -> np.ndarray | dict[str, np.ndarray]:
        """A list of single-env observations -> ``[N, ...]`` arrays."""
        if not self.is_dict:
            return np.stack(observations)
        return {k: np.stack([o[k] for o in observations]) for k in self.parts}

    def to_tensor(self, batch, device: torch.device) -> Observation:
        """Stacked arrays -> tensors on ``device`` (always a copy: no two calls share memory)."""
        if not self.is_dict:
            return torch.tensor(batch, dtype=self.parts[None].torch_dtype, device=device)
        return {k: torch.tensor(batch[k], dtype=p.torch_dtype, device=device) for k, p in self.parts.items()}

    def views(self, buffer, num_envs: int) -> np.ndarray | dict[str, np.ndarray]:
        """``[num_envs, ...]`` arrays laid one after the other in ``buffer`` (``num_envs * nbytes`` bytes)."""
        arrays, offset = {}, 0
        for key, part in self.parts.items():
            arrays[key] = np.ndarray((num_envs, *part.shape), part.np_dtype, buffer=buffer, offset=offset)
            offset += num_envs * part.nbytes
        return arrays if self.is_dict else arrays[None]


def rows(batch, start: int, stop: int):
    """Rows ``start:stop`` of a stacked observation (array or dict of arrays), as views."""
    if isinstance(batch, dict):
        return {k: v[start:stop] for k, v in batch.items()}
    return batch[start:stop]


def assign(target, source) -> None:
    """``target[...] = source`` for arrays or dicts of arrays."""
    if isinstance(target, dict):
        for k in target:
            target[k][...] = source[k]
    else:
        target[...] = source


def to_numpy(observation):
    """Tensors (or a dict of them) -> numpy arrays on the host."""
    if isinstance(observation, dict):
        return {k: v.cpu().numpy() for k, v in observation.items()}
    return observation.cpu().numpy()
