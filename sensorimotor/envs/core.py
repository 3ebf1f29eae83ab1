"""The VecEnv contract every backend implements (DESIGN.md 2.1).

All inputs and outputs are torch tensors on ``device``:

- ``reset(seed) -> obs``: ``obs`` is ``[N, *obs_shape]``.
- ``step(actions) -> (obs, reward, terminated, truncated, info)`` with ``reward`` float32 ``[N]`` and
  ``terminated`` / ``truncated`` bool ``[N]``. A finished env is reset inside ``step`` (same-step
  autoreset), so ``obs`` already starts the next episode for those rows.
- ``info["final_obs"]`` is ``[N, *obs_shape]``: the observation that really followed this step, before
  any reset. For envs that did not finish it equals ``obs``; for finished ones it is the last
  observation of the episode, which truncated episodes bootstrap from. Keeping it dense lets the
  learner value every next state in one batched call.
- ``info["episode_return"]`` (float32 ``[N]``) and ``info["episode_length"]`` (int64 ``[N]``) hold the
  finished episodes' raw (unnormalized) statistics where the episode ended, zero elsewhere: the sum
  of the raw rewards of the episode, and its number of steps.

Optional entries and metadata (backends that have them):

- ``info["episode_end"]`` bool ``[N]``: where a whole episode ended, when that differs from
  ``terminated | truncated``. The ``ale`` backend with ``life_loss_terminal=True`` terminates at each
  lost life (a bootstrap cut for DQN) while the game, and its statistics, go on to game over.
  Consumers count episodes by ``info.get("episode_end", terminated | truncated)``.
- ``info["lives"]`` int64 ``[N]``: lives left (Atari).
- ``metadata["frame_stack"] = k``: the observation's leading axis holds the last ``k`` frames, oldest
  first (zeros before an episode's first frame), so a replay can store one frame per step.

Actions, one rule for every backend (:func:`check_actions`): ``[N]`` integers in ``[0, n)`` for a
``Discrete`` space, ``[N, *shape]`` finite numbers for a ``Box``; anything else (a wrong shape or
dtype, an out-of-range choice, NaN or Inf) raises :class:`~sensorimotor.errors.UserError` with one
line before it reaches the simulator. Finite Box actions outside the bounds are clipped as the task does.
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

import gymnasium as gym
import numpy as np
import torch


@runtime_checkable
class VecEnv(Protocol):
    num_envs: int
    device: torch.device
    single_observation_space: gym.Space
    single_action_space: gym.Space
    metadata: dict[str, Any]

    def reset(self, seed: int | None = None) -> torch.Tensor: ...

    def step(
        self, actions: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor, dict[str, torch.Tensor]]: ...

    def render(self) -> np.ndarray | None: ...

    def close(self) -> None: ...


class EpisodeStats:
    """Running per-env episode return and length on the raw reward (numpy, host side).

    Backends call :meth:`update` once per step with the raw reward ``[N]`` and done mask ``[N]``;
    it returns the finished episodes' return and length (zero where not done) and restarts them.
    """

    def __init__(self, num_envs: int):
        self._returns = np.zeros(num_envs, dtype=np.float64)
        self._lengths = np.zeros(num_envs, dtype=np.int64)

    def reset(self) -> None:
        self._returns[:] = 0.0
        self._lengths[:] = 0

    def update(self, reward: np.ndarray, done: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        self._returns += reward
        self._lengths += 1
        finished_return = np.where(done, self._returns, 0.0).astype(np.float32)
        finished_length = np.where(done, self._lengths, 0)
        self._returns[done] = 0.0
        self._lengths[done] = 0
        return finished_return, finished_length


def check_actions(actions: torch.Tensor, space: gym.Space, num_envs: int) -> None:
    """Raise :class:`UserError` unless ``actions`` fits ``space`` for ``num_envs`` envs (see the module
    docstring). One host sync for the value checks."""
    from sensorimotor.errors import UserError

    if not isinstance(actions, torch.Tensor):
        raise UserError(f"actions must be a torch tensor, got {type(actions).__name__}.")
    if isinstance(space, gym.spaces.Discrete):
        if tuple(actions.shape) != (num_envs,) or actions.dtype.is_floating_point or actions.dtype == torch.bool:
            raise UserError(f"discrete actions must be integers of shape ({num_envs},), got {actions.dtype} "
                            f"{tuple(actions.shape)}.")
        low, high = int(space.start), int(space.start) + int(space.n) - 1
        if bool(((actions < low) | (actions > high)).any()):
            raise UserError(f"discrete actions must be in [{low}, {high}], got {actions.tolist()}.")
        return
    expected = (num_envs, *space.shape)
    if tuple(actions.shape) != expected:
        raise UserError(f"actions must have shape {expected}, got {tuple(actions.shape)}.")
    if actions.dtype.is_complex or actions.dtype == torch.bool:
        raise UserError(f"continuous actions must be numbers, got {actions.dtype}.")
    if actions.dtype.is_floating_point and not bool(torch.isfinite(actions).all()):
        raise UserError("actions contain NaN or Inf: the policy diverged or the caller sent garbage.")


def space_dtype(space: gym.Space) -> torch.dtype:
    """The torch dtype a backend uses for values of ``space`` (float32 for float boxes)."""
    if isinstance(space, gym.spaces.Discrete):
        return torch.int64
    if isinstance(space, gym.spaces.Box) and space.dtype == np.uint8:
        return torch.uint8
    return torch.float32


def float32_box(space: gym.spaces.Box) -> gym.spaces.Box:
    """``space`` with float32 dtype: observations leave every backend as float32."""
    return gym.spaces.Box(space.low.astype(np.float32), space.high.astype(np.float32), space.shape, np.float32)
