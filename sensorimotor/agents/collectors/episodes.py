"""Whole episodes out of vector steps, and into any replay.

A collector's envs finish episodes at different steps; :class:`EpisodeAssembler` keeps each env's
steps until its episode ends and hands over only whole episodes (numpy, no torch), so a collector that
dies mid-episode leaves nothing half-written behind. :func:`feed_episode` writes one into a replay:
through the replay's ``add_episode`` when it has one, else step by step through ``start``/``add`` as
the runner's own envs would (a replay built for one env).

An episode: ``obs`` ``[T + 1, ...]`` (a dict of arrays for ``Dict`` observations; the last entry is the
final observation), ``action [T, ...]``, ``reward [T]``, ``terminated [T]``, ``truncated [T]`` and
``reset [T]`` (where the env started over: the last step; a life-loss terminal is terminated, not reset).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

Episode = dict[str, Any]


def _rows(obs, i: int):
    if isinstance(obs, dict):
        return {k: v[i].cpu().numpy().copy() for k, v in obs.items()}
    return obs[i].cpu().numpy().copy()


class EpisodeAssembler:
    """Collects vector steps of ``num_envs`` envs into whole episodes."""

    def __init__(self, num_envs: int):
        self.num_envs = num_envs
        self._steps: list[list[tuple]] = [[] for _ in range(num_envs)]
        self._first: list[Any] = [None] * num_envs

    @property
    def partial(self) -> int:
        """Envs holding an unfinished episode (what a collector's death would drop)."""
        return sum(1 for steps in self._steps if steps)

    def start(self, obs) -> None:
        """The observations after ``reset``: every env begins a new episode."""
        self._steps = [[] for _ in range(self.num_envs)]
        self._first = [_rows(obs, i) for i in range(self.num_envs)]

    def add(self, action: torch.Tensor, reward: torch.Tensor, terminated: torch.Tensor, truncated: torch.Tensor,
            next_obs, final_obs, reset: torch.Tensor) -> list[Episode]:
        """One vector step (the runner's ``replay.add`` arguments); returns the episodes it completed."""
        done = []
        action, reward = action.cpu().numpy(), reward.cpu().numpy()
        terminated, truncated, reset = terminated.cpu().numpy(), truncated.cpu().numpy(), reset.cpu().numpy()
        for i in range(self.num_envs):
            following = _rows(final_obs if reset[i] else next_obs, i)
            self._steps[i].append((action[i], reward[i], terminated[i], truncated[i], reset[i], following))
            if reset[i]:
                done.append(self._episode(i))
                self._steps[i] = []
                self._first[i] = _rows(next_obs, i)
        return done

    def _episode(self, i: int) -> Episode:
        steps = self._steps[i]
        observations = [self._first[i], *(s[5] for s in steps)]
        if isinstance(observations[0], dict):
            obs = {k: np.stack([o[k] for o in observations]) for k in observations[0]}
        else:
            obs = np.stack(observations)
        return {"obs": obs, "action": np.stack([s[0] for s in steps]),
                "reward": np.array([s[1] for s in steps], np.float32),
                "terminated": np.array([s[2] for s in steps], bool), "truncated": np.array([s[3] for s in steps], bool),
                "reset": np.array([s[4] for s in steps], bool)}


def episode_length(episode: Episode) -> int:
    return int(len(episode["reward"]))


def feed_episode(replay, episode: Episode, stored_reward=None) -> None:
    """Write ``episode`` into ``replay``; ``stored_reward``: the agent's reward transform (DQN clips)."""
    # Copies (torch.tensor): arrays from Ray's object store are read-only views.
    reward = torch.tensor(episode["reward"])
    if stored_reward is not None:
        reward = stored_reward(reward)
    if hasattr(replay, "add_episode"):
        replay.add_episode({**episode, "reward": reward.numpy()})
        return
    obs = episode["obs"]

    def at(t: int):
        if isinstance(obs, dict):
            return {k: torch.tensor(v[t:t + 1]) for k, v in obs.items()}
        return torch.tensor(obs[t:t + 1])

    replay.start(at(0))
    for t in range(episode_length(episode)):
        following = at(t + 1)
        replay.add(torch.tensor(episode["action"][t:t + 1]), reward[t:t + 1],
                   torch.tensor(episode["terminated"][t:t + 1]), torch.tensor(episode["truncated"][t:t + 1]),
                   following, following, reset=torch.tensor(episode["reset"][t:t + 1]))
