"""A replay of whole one-step transitions over flat observations, for continuous control (SAC).

Each row holds ``obs``, ``action``, ``reward``, ``next_obs`` and ``terminated``. ``next_obs`` is the
observation that really followed: the env's ``final_obs`` where an episode ended (so a truncated
episode bootstraps from its last state) and the next observation otherwise. Storing ``next_obs``
twice costs memory (flat vectors: ~150 B per MuJoCo transition) and buys the cheapest possible sample:
one ``randint`` and one gather per field, no episode bookkeeping.

Shapes: ``N`` envs write one row each per step into a ring of ``capacity`` rows.
"""

from __future__ import annotations

from typing import NamedTuple

import torch

from sensorimotor.errors import UserError


class TransitionBatch(NamedTuple):
    """``obs``/``next_obs`` float32 ``[B, D]``, ``action`` float32 ``[B, A]``, ``reward`` float32 ``[B]``,
    ``terminated`` bool ``[B]`` (no bootstrap; a truncation bootstraps from ``next_obs``)."""

    obs: torch.Tensor
    action: torch.Tensor
    reward: torch.Tensor
    next_obs: torch.Tensor
    terminated: torch.Tensor


class TransitionReplay:
    """Args:
        capacity: rows kept (the oldest are overwritten first).
        num_envs: rows written per ``add``.
        obs_shape, action_shape: of one env's observation and action.
        device: where the rows live and batches are drawn.
    """

    _FIELDS = ("obs", "action", "reward", "next_obs", "terminated")

    def __init__(self, capacity: int, num_envs: int, obs_shape: tuple[int, ...], action_shape: tuple[int, ...],
                 device: str | torch.device = "cpu"):
        if capacity < num_envs:
            raise UserError(f"replay capacity {capacity} is smaller than the {num_envs} envs writing into it.")
        self.capacity, self.num_envs, self.device = capacity, num_envs, torch.device(device)
        self.obs = torch.zeros((capacity, *obs_shape), device=self.device)
        self.next_obs = torch.zeros((capacity, *obs_shape), device=self.device)
        self.action = torch.zeros((capacity, *action_shape), device=self.device)
        self.reward = torch.zeros(capacity, device=self.device)
        self.terminated = torch.zeros(capacity, dtype=torch.bool, device=self.device)
        self.pos, self.size = 0, 0
        self._rows = torch.arange(num_envs, device=self.device)
        self._pending: torch.Tensor | None = None  # the observations the next actions are taken from

    def __len__(self) -> int:
        return self.size

    def start(self, obs: torch.Tensor) -> None:
        """The first observations after ``reset``, ``[N, D]``."""
        self._pending = obs.to(self.device, torch.float32)

    def add(self, action: torch.Tensor, reward: torch.Tensor, terminated: torch.Tensor, truncated: torch.Tensor,
            next_obs: torch.Tensor, final_obs: torch.Tensor | None = None, reset: torch.Tensor | None = None) -> None:
        """One vector step (the runner's call, as for ``FrameReplay``): ``action [N, A]``, ``reward``,
        flags ``[N]``, ``next_obs [N, D]`` after autoreset, ``final_obs [N, D]`` where episodes ended."""
        assert self._pending is not None, "call start(obs) after reset"
        done = (terminated | truncated).to(self.device)
        following = next_obs.to(self.device, torch.float32)
        if final_obs is not None:
            following = torch.where(done[:, None], final_obs.to(self.device, torch.float32), following)
        rows = (self._rows + self.pos) % self.capacity
        self.obs.index_copy_(0, rows, self._pending)
        self.next_obs.index_copy_(0, rows, following)
        self.action.index_copy_(0, rows, action.to(self.device, torch.float32))
        self.reward.index_copy_(0, rows, reward.to(self.device, torch.float32))
        self.terminated.index_copy_(0, rows, terminated.to(self.device))
        self.pos = (self.pos + self.num_envs) % self.capacity
        self.size = min(self.size + self.num_envs, self.capacity)
        self._pending = next_obs.to(self.device, torch.float32)

    def cut(self) -> None:
        """A resumed run's envs start fresh episodes; every stored row is already whole, so nothing to end."""
        self._pending = None

    def sample(self, batch_size: int, generator: torch.Generator | None = None) -> TransitionBatch:
        """``batch_size`` rows drawn uniformly with replacement."""
        if self.size == 0:
            raise RuntimeError("the replay holds no transition yet")
        index = torch.randint(0, self.size, (batch_size,), device=self.device, generator=generator)
        return TransitionBatch(*(getattr(self, name).index_select(0, index) for name in self._FIELDS))

    def state_dict(self) -> dict[str, torch.Tensor]:
        """The filled rows, oldest first (a resumed run need not keep the same capacity)."""
        order = (torch.arange(self.size, device=self.device) + (self.pos - self.size)) % self.capacity
        return {name: getattr(self, name).index_select(0, order) for name in self._FIELDS}

    def load_state_dict(self, state: dict[str, torch.Tensor]) -> None:
        size = int(state["reward"].shape[0])
        keep = min(size, self.capacity)
        for name in self._FIELDS:
            saved, mine = state[name], getattr(self, name)
            if saved.shape[1:] != mine.shape[1:]:
                raise UserError(f"the saved replay's {name} rows are {tuple(saved.shape[1:])}, this run's "
                                f"{tuple(mine.shape[1:])}: resume on the same env.")
            mine[:keep] = saved[size - keep:].to(self.device)
        self.size, self.pos = keep, keep % self.capacity
