"""What every agent is to the run pipeline, the runners and the Python API (DESIGN.md 2.3).

An agent is a frozen config dataclass, a model and a loss. The pipeline (``sensorimotor.app``) builds
it from its registry entry (``agents/registry.py``), feeds it to one of the two runners, and saves and
loads it through ``state_dict`` alone. What a runner needs beyond this protocol is listed with the
runner: :class:`OnPolicyLearner` and :class:`OffPolicyLearner` below.
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

import torch
from torch import nn


@runtime_checkable
class Agent(Protocol):
    """The methods the run pipeline calls on any agent.

    ``state_dict()`` returns ``{"weights": {name: tensor}, ...}``: the weights go to
    ``weights.safetensors``, everything else (optimizer moments, counters; tensors, numbers, strings,
    lists and dicts only) to ``state.pt``, read back with ``torch.load(weights_only=True)``.
    """

    config: Any
    device: torch.device

    def predict(self, obs: torch.Tensor, deterministic: bool = True) -> torch.Tensor:
        """``obs [N, ...]`` on ``device`` -> actions ``[N, ...]``: what the trained policy does (the mean
        or argmax when ``deterministic``). Stateful agents advance their per-env memory."""

    def reset_state(self, num_envs: int) -> None:
        """Forget every env's memory (a no-op for memoryless agents)."""

    def end_episodes(self, done: torch.Tensor) -> None:
        """``done [N]`` bool: these envs start new episodes at their next observation."""

    def memory(self) -> Any:
        """The per-env memory :meth:`predict` carries (a recurrent state), or None for memoryless agents."""

    def set_memory(self, memory: Any) -> None:
        """Continue from ``memory`` (from :meth:`memory`); None starts every env fresh."""

    def state_dict(self) -> dict[str, Any]:
        """Everything a checkpoint holds of the agent (see the class docstring)."""

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore :meth:`state_dict`; a :class:`~sensorimotor.errors.UserError` if the weights do not fit."""

    def export_module(self) -> nn.Module:
        """The acting network for ``policies/export.py``: normalized observation -> action parameters
        (continuous, clamped there to the bounds) or one score per discrete action (argmax there)."""


class Memoryless:
    """The memory methods of an agent that keeps none between steps (feed-forward policies; a frame
    stack is the env's, not the agent's)."""

    def reset_state(self, num_envs: int) -> None:
        """Nothing to forget."""

    def end_episodes(self, done: torch.Tensor) -> None:
        """Nothing to reset."""

    def memory(self) -> None:
        return None

    def set_memory(self, memory: Any) -> None:
        """Nothing to restore."""


class OnPolicyLearner(Agent, Protocol):
    """What ``OnPolicyRunner`` adds: a rollout storage and an update over it."""

    def act(self, obs: torch.Tensor, deterministic: bool = False) -> tuple[torch.Tensor, ...]:
        """``obs [N, ...] -> (actions, log_probs [N], values [N])``."""

    def make_storage(self, obs_shape: tuple[int, ...]) -> Any:
        """A preallocated rollout storage for ``config.n_steps`` x ``config.num_envs`` steps."""

    def record_step(self, t: int, storage: Any, terminated: torch.Tensor, truncated: torch.Tensor, info: dict) -> None:
        """Called after step ``t`` is stored (recurrent agents save the state they acted from)."""

    def update(self, storage: Any, progress: float = 0.0) -> dict[str, float]:
        """Fit to one rollout; ``progress`` in [0, 1] is the share of training done. Named loss terms."""


class OffPolicyLearner(Agent, Protocol):
    """What ``OffPolicyRunner`` adds. The runner owns time (when to update, how often to log and save);
    exploration, reward shaping for the replay, sampling, priorities and target networks are the agent's.

    Optional: ``acting_weight_prefixes`` (a class attribute, e.g. ``("q.",)``) names the weights
    :meth:`explore` reads, the only ones broadcast to Ray collectors (all of them when absent);
    ``offline_updates_left()`` runs an offline phase before collection (QT-Opt)."""

    def make_replay(self, env: Any) -> Any:
        """The replay this agent learns from, sized for ``env`` (``start``/``add``/``cut``/``state_dict``)."""

    def explore(self, obs: torch.Tensor, step: int) -> torch.Tensor:
        """Actions to collect with at environment step ``step`` (epsilon-greedy, sampled, random...)."""

    def stored_reward(self, reward: torch.Tensor) -> torch.Tensor:
        """``reward [N]`` as the replay keeps it (DQN clips it; statistics stay raw)."""

    def update(self, replay: Any, step: int) -> dict[str, torch.Tensor | float]:
        """One gradient step from ``replay`` at environment step ``step``; scalar metrics (tensors are
        fine: the runner averages them on the device and syncs once per log)."""

    def schedule(self, step: int) -> dict[str, float]:
        """Values of the agent's schedules at ``step`` to log (epsilon, priority beta...)."""
