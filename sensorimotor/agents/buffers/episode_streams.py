"""A replay of one-step transitions over ``Dict`` observations (camera + state) that stores each
observation once, and a two-part replay that keeps offline and online data apart.

:class:`EpisodeStreams`: each stream (one per env, or one for a dataset) is a ring of ``T`` slots. A
slot holds one observation; once the next observation of the same stream is written, the slot also
gets the action taken from it, the reward and ``terminated``, and becomes a transition whose next
observation is the following slot. Where an episode ends, the following slot holds the final
observation and starts no transition; the reset observation goes into the slot after it. Slots are
overwritten in ring order, so a transition's successor is always newer than it and never stale.
Storage: one observation per step plus one per episode (a 64x64 RGB grasp step: 12,288 B of pixels,
12 B of state, 4 B per action component, reward and flags: ~12.3 kB, x (1 + 1/T_episode)).

:class:`MixedReplay`: an offline part (filled once from episode datasets, never overwritten, not
saved in checkpoints: it is reloaded from the dataset) and an online part (the run's own envs); each
batch takes ``online_fraction`` of its rows from the online part once it holds a transition.
"""

from __future__ import annotations

from typing import Any, Iterable, NamedTuple

import numpy as np
import torch

from sensorimotor.errors import UserError

Obs = dict[str, torch.Tensor]


class DictTransitionBatch(NamedTuple):
    """``obs``/``next_obs``: ``{key: [B, ...]}`` as stored (uint8 pixels, float32 state); ``action [B, A]``
    float32; ``reward [B]`` float32; ``terminated [B]`` bool (no bootstrap)."""

    obs: Obs
    action: torch.Tensor
    reward: torch.Tensor
    next_obs: Obs
    terminated: torch.Tensor


def _cat_batches(parts: list[DictTransitionBatch]) -> DictTransitionBatch:
    if len(parts) == 1:
        return parts[0]
    return DictTransitionBatch(
        {k: torch.cat([p.obs[k] for p in parts]) for k in parts[0].obs},
        torch.cat([p.action for p in parts]), torch.cat([p.reward for p in parts]),
        {k: torch.cat([p.next_obs[k] for p in parts]) for k in parts[0].next_obs},
        torch.cat([p.terminated for p in parts]))


class EpisodeStreams:
    """Args:
        capacity: slots in all (split evenly over the streams; an episode of T steps uses T + 1).
        streams: rings written in parallel (the envs of a vector step).
        obs_parts: ``{key: (shape, torch dtype)}`` of one observation.
        action_dim: length of one action.
        lazy: leave the observation storage uninitialised (``torch.empty``: the OS commits pages only as
            they are written), for an offline part sized by an upper bound on the dataset's steps.
    """

    def __init__(self, capacity: int, streams: int, obs_parts: dict[str, tuple[tuple[int, ...], torch.dtype]],
                 action_dim: int, lazy: bool = False):
        slots = capacity // streams
        if slots < 3:
            raise UserError(f"replay capacity {capacity} is too small for {streams} envs (3 slots each at least).")
        self.streams, self.slots = streams, slots
        n, t = streams, slots
        allocate = torch.empty if lazy else torch.zeros
        self.obs = {k: allocate((n, t, *shape), dtype=dtype) for k, (shape, dtype) in obs_parts.items()}
        self.action = torch.zeros((n, t, action_dim))
        self.reward = torch.zeros((n, t))
        self.terminated = torch.zeros((n, t), dtype=torch.bool)
        self.is_transition = torch.zeros((n, t), dtype=torch.bool)
        self.pos = torch.zeros(n, dtype=torch.int64)  # next slot to write, per stream
        self._wrapped = False  # some stream has come round to its first slot again
        self._rows = torch.arange(n)
        self._valid: torch.Tensor | None = None  # flat indices of the transition slots (cached until a write)

    def __len__(self) -> int:
        return int(self.is_transition.sum())

    @property
    def nbytes(self) -> int:
        tensors = [*self.obs.values(), self.action, self.reward, self.terminated, self.is_transition]
        return sum(t.numel() * t.element_size() for t in tensors)

    def write(self, rows: torch.Tensor, obs: Obs) -> torch.Tensor:
        """Write one observation into each stream of ``rows [K]``; returns their slots ``[K]``."""
        slots = self.pos[rows]
        for k, store in self.obs.items():
            store[rows, slots] = obs[k].to(store.dtype)
        self.is_transition[rows, slots] = False
        self._wrapped = self._wrapped or bool((slots + 1 == self.slots).any())
        self.pos[rows] = (slots + 1) % self.slots
        self._valid = None
        return slots

    def complete(self, rows: torch.Tensor, slots: torch.Tensor, action: torch.Tensor, reward: torch.Tensor,
                 terminated: torch.Tensor) -> None:
        """Make the slots ``(rows, slots)`` transitions (their successors have been written)."""
        self.action[rows, slots] = action.float()
        self.reward[rows, slots] = reward.float()
        self.terminated[rows, slots] = terminated.bool()
        self.is_transition[rows, slots] = True
        self._valid = None

    def add_episode(self, obs: Obs, action: torch.Tensor, reward: torch.Tensor, terminated: torch.Tensor,
                    next_obs: Obs, stream: int = 0) -> None:
        """A whole episode into ``stream``: ``obs {k: [T, ...]}``, ``action [T, A]``, ``reward``,
        ``terminated [T]``, ``next_obs {k: [...]}`` after the last step."""
        length = int(action.shape[0])
        row = torch.tensor([stream])
        previous = None
        for t in range(length + 1):
            current = {k: (v[t] if t < length else next_obs[k])[None] for k, v in obs.items()}
            slot = self.write(row, current)
            if previous is not None:
                self.complete(row, previous, action[t - 1:t], reward[t - 1:t], terminated[t - 1:t])
            previous = slot

    def sample(self, batch_size: int, generator: torch.Generator | None = None) -> DictTransitionBatch:
        """``batch_size`` transitions drawn uniformly with replacement."""
        if self._valid is None:
            self._valid = self.is_transition.flatten().nonzero().squeeze(1)
        if len(self._valid) == 0:
            raise RuntimeError("the replay holds no transition yet")
        pick = self._valid[torch.randint(0, len(self._valid), (batch_size,), generator=generator)]
        rows, slots = pick // self.slots, pick % self.slots
        following = (slots + 1) % self.slots
        return DictTransitionBatch({k: v[rows, slots] for k, v in self.obs.items()}, self.action[rows, slots],
                                   self.reward[rows, slots], {k: v[rows, following] for k, v in self.obs.items()},
                                   self.terminated[rows, slots])

    def state_dict(self) -> dict[str, torch.Tensor]:
        """The slots written so far (all of them once a ring has wrapped; ``slots`` says how many a
        stream has): a checkpoint early in a run holds what was collected, not the empty ring."""
        used = self.used
        return {**{f"obs.{k}": v[:, :used] for k, v in self.obs.items()}, "action": self.action[:, :used],
                "reward": self.reward[:, :used], "terminated": self.terminated[:, :used],
                "is_transition": self.is_transition[:, :used], "pos": self.pos,
                "slots": torch.tensor(self.slots)}

    @property
    def used(self) -> int:
        """Slots of each stream ever written: the furthest position reached, all of them after a wrap."""
        return self.slots if self._wrapped else int(self.pos.max())

    def load_state_dict(self, state: dict[str, torch.Tensor]) -> None:
        state = dict(state)
        saved_slots = int(state.pop("slots", self.slots))  # older checkpoints hold whole rings
        mine = {**{f"obs.{k}": v for k, v in self.obs.items()}, "action": self.action, "reward": self.reward,
                "terminated": self.terminated, "is_transition": self.is_transition, "pos": self.pos}
        used = int(state["action"].shape[1]) if "action" in state else 0
        wrapped = used == saved_slots
        for name, saved in state.items():
            target = mine.get(name)
            fits = target is not None and (saved.shape == target.shape if name == "pos" else
                                           saved.shape[0] == target.shape[0] and saved.shape[2:] == target.shape[2:])
            if not fits or (wrapped and saved_slots != self.slots) or used > self.slots:
                have = tuple(target.shape) if target is not None else "nothing"
                raise UserError(f"the saved replay's {name} is {tuple(saved.shape)} of {saved_slots} slots per env, "
                                f"this run's {have}: resume on the same env with the same buffer size and number "
                                "of envs.")
        for name, saved in state.items():
            if name == "pos":
                mine[name].copy_(saved)
            else:
                mine[name][:, :used].copy_(saved)
        self._wrapped = wrapped
        self._valid = None


class MixedReplay:
    """The runner's replay (``start``/``add``/``cut``/``sample``/``state_dict``) over an online
    :class:`EpisodeStreams` of ``num_envs`` streams, plus an optional offline one from datasets.

    Args:
        capacity: online slots in all.
        num_envs: envs writing each vector step.
        obs_parts, action_dim: as :class:`EpisodeStreams`.
        online_fraction: share of each batch drawn from the online part, once it holds a transition
            and there is offline data (without offline data every row is online).
    """

    def __init__(self, capacity: int, num_envs: int, obs_parts: dict[str, tuple[tuple[int, ...], torch.dtype]],
                 action_dim: int, online_fraction: float = 0.5):
        self.obs_parts, self.action_dim = obs_parts, action_dim
        self.online = EpisodeStreams(capacity, num_envs, obs_parts, action_dim)
        self.offline: EpisodeStreams | None = None
        self.online_fraction = online_fraction
        self._all = torch.arange(num_envs)
        self._pending: torch.Tensor | None = None  # slots of the observations the next actions are taken from
        self._next_stream = 0  # where the next whole episode from a remote collector goes

    def __len__(self) -> int:
        return len(self.online) + (len(self.offline) if self.offline is not None else 0)

    def load_offline(self, episodes: Iterable[dict[str, Any]], max_slots: int) -> None:
        """Fill the offline part with whole episodes (from ``utils.datasets.read_episodes``; observations
        with this replay's keys and shapes) whose steps plus count are at most ``max_slots``."""
        self.offline = EpisodeStreams(max_slots, 1, self.obs_parts, self.action_dim, lazy=True)
        for episode in episodes:
            # np.array copies: records are decoded into read-only buffers.
            obs = {k: torch.from_numpy(np.array(v)) for k, v in episode["obs"].items()}
            next_obs = {k: torch.from_numpy(np.array(v)) for k, v in episode["next_obs"].items()}
            self.offline.add_episode(obs, torch.from_numpy(episode["action"]).reshape(-1, self.action_dim),
                                     torch.from_numpy(episode["reward"]), torch.from_numpy(episode["terminated"]),
                                     next_obs)

    def add_episode(self, episode: dict[str, Any]) -> None:
        """A whole episode from a remote collector (``agents/collectors/episodes.py``: ``obs`` ``{key:
        [T + 1, ...]}`` ending with the final observation) into the online part, streams in turn."""
        obs = {k: torch.from_numpy(np.array(v)) for k, v in episode["obs"].items()}  # a copy: Ray's are read-only
        self.online.add_episode({k: v[:-1] for k, v in obs.items()},
                                torch.tensor(episode["action"], dtype=torch.float32).reshape(-1, self.action_dim),
                                torch.tensor(episode["reward"]), torch.tensor(episode["terminated"]),
                                {k: v[-1] for k, v in obs.items()}, stream=self._next_stream)
        self._next_stream = (self._next_stream + 1) % self.online.streams

    # -- the runner's calls -------------------------------------------------------------------------
    def start(self, obs: Obs) -> None:
        """The first observations after ``reset``, ``{key: [N, ...]}``."""
        self._pending = self.online.write(self._all, _cpu(obs))

    def add(self, action: torch.Tensor, reward: torch.Tensor, terminated: torch.Tensor, truncated: torch.Tensor,
            next_obs: Obs, final_obs: Obs | None = None, reset: torch.Tensor | None = None) -> None:
        """One vector step: ``action [N, A]``, ``reward``, flags ``[N]``, ``next_obs`` after autoreset,
        ``final_obs`` where episodes ended (``{key: [N, ...]}``)."""
        assert self._pending is not None, "call start(obs) after reset"
        done = (terminated | truncated).cpu()
        next_obs = _cpu(next_obs)
        following = next_obs
        if final_obs is not None and bool(done.any()):
            final_obs = _cpu(final_obs)
            following = {k: torch.where(done.view(-1, *[1] * (v.dim() - 1)), final_obs[k], v) for k, v in next_obs.items()}
        written = self.online.write(self._all, following)
        self.online.complete(self._all, self._pending, action.cpu(), reward.cpu(), terminated.cpu())
        if bool(done.any()):
            ended = done.nonzero().squeeze(1)
            written = written.clone()
            written[ended] = self.online.write(ended, {k: v[ended] for k, v in next_obs.items()})
        self._pending = written

    def cut(self) -> None:
        """A resumed run's envs start fresh episodes: the pending observations start no transition."""
        self._pending = None

    def sample(self, batch_size: int, generator: torch.Generator | None = None) -> DictTransitionBatch:
        online_rows = len(self.online) > 0
        offline_rows = self.offline is not None and len(self.offline) > 0
        if not online_rows and not offline_rows:
            raise RuntimeError("the replay holds no transition yet")
        if not offline_rows:
            return self.online.sample(batch_size, generator)
        if not online_rows:
            return self.offline.sample(batch_size, generator)
        k = int(round(batch_size * self.online_fraction))
        parts = [self.online.sample(k, generator)] if k > 0 else []
        if batch_size - k > 0:
            parts.append(self.offline.sample(batch_size - k, generator))
        return _cat_batches(parts)

    def state_dict(self) -> dict[str, torch.Tensor]:
        """The online part only: the offline part is the dataset's, reloaded with the run."""
        return self.online.state_dict()

    def load_state_dict(self, state: dict[str, torch.Tensor]) -> None:
        self.online.load_state_dict(state)

    @property
    def nbytes(self) -> int:
        return self.online.nbytes + (self.offline.nbytes if self.offline is not None else 0)


def _cpu(obs: Obs) -> Obs:
    return {k: v.cpu() for k, v in obs.items()}
