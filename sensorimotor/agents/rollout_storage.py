"""Preallocated on-policy rollout storage on the agent's device."""

from __future__ import annotations

import torch


def map_observation(fn, obs):
    """``fn`` applied to an observation tensor, or to each part of a ``Dict`` observation."""
    return {k: fn(v) for k, v in obs.items()} if isinstance(obs, dict) else fn(obs)


def observation_layout(space) -> tuple[int, ...] | dict[str, tuple[int, ...]]:
    """A ``Box`` space's shape, or ``{key: shape}`` of a ``Dict`` space (what ``make_storage`` takes)."""
    spaces = getattr(space, "spaces", None)
    if isinstance(spaces, dict):
        return {k: tuple(s.shape) for k, s in spaces.items()}
    return tuple(space.shape)


class RolloutStorage:
    """``[T, N, ...]`` tensors for one rollout of T steps over N envs, written in place each step.

    ``next_obs[t]`` is the observation that really followed step t (the env's ``final_obs``), so the
    learner values every next state in one batched call after the rollout, truncations included.
    A ``Dict`` observation (``obs_shape`` and ``obs_dtype`` given per key) is stored as a dict of
    such tensors.
    """

    def __init__(
        self, n_steps: int, num_envs: int, obs_shape: tuple[int, ...] | dict[str, tuple[int, ...]],
        action_shape: tuple[int, ...], action_dtype: torch.dtype, device: torch.device,
        obs_dtype: torch.dtype | dict[str, torch.dtype] = torch.float32,
    ):
        T, N = n_steps, num_envs

        def zeros(*shape, dtype=torch.float32):
            return torch.zeros(shape, dtype=dtype, device=device)

        def observations():
            if isinstance(obs_shape, dict):
                return {k: zeros(T, N, *shape, dtype=obs_dtype[k]) for k, shape in obs_shape.items()}
            return zeros(T, N, *obs_shape, dtype=obs_dtype)

        self.obs = observations()
        self.next_obs = observations()
        self.actions = zeros(T, N, *action_shape, dtype=action_dtype)
        self.log_probs = zeros(T, N)
        self.values = zeros(T, N)
        self.rewards = zeros(T, N)
        self.terminated = zeros(T, N, dtype=torch.bool)
        self.truncated = zeros(T, N, dtype=torch.bool)
        self.n_steps, self.num_envs = T, N

    def add(self, t: int, obs, actions, log_probs, values, rewards, terminated, truncated, next_obs) -> None:
        _write(self.obs, t, obs)
        self.actions[t] = actions
        self.log_probs[t] = log_probs
        self.values[t] = values
        self.rewards[t] = rewards
        self.terminated[t] = terminated
        self.truncated[t] = truncated
        _write(self.next_obs, t, next_obs)


def _write(storage, t: int, obs) -> None:
    if isinstance(storage, dict):
        for k, tensor in storage.items():
            tensor[t] = obs[k]
    else:
        storage[t] = obs


class RecurrentRolloutStorage(RolloutStorage):
    """Adds what recurrent PPO needs: the state each step was acted from, episode starts, and the
    value of each step's true next state (computed during the rollout, where the state is known).

    ``states [T, N, S]`` are stored after the reset at episode starts, so a chunk starting at step t
    begins from ``states[t]`` as it is.
    """

    def __init__(self, n_steps: int, num_envs: int, obs_shape, action_shape, action_dtype, device, state_size: int,
                 obs_dtype: torch.dtype = torch.float32):
        super().__init__(n_steps, num_envs, obs_shape, action_shape, action_dtype, device, obs_dtype)
        self.states = torch.zeros(n_steps, num_envs, state_size, device=device)
        self.episode_starts = torch.zeros(n_steps, num_envs, dtype=torch.bool, device=device)
        self.next_values = torch.zeros(n_steps, num_envs, device=device)
