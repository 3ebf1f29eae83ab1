"""The on-policy runner: collect a rollout, update, log, checkpoint. PPO and recurrent PPO use it."""

from __future__ import annotations

import time
from typing import Any, Callable

import torch
from tqdm import tqdm

from sensorimotor.agents.rollout_storage import observation_layout


class OnPolicyRunner:
    """Drives an on-policy agent on a VecEnv.

    Args:
        agent: exposes ``act``, ``update``, ``make_storage`` and ``config`` (``total_steps``,
            ``n_steps``, ``num_envs``).
        env: the (wrapped) VecEnv.
        logger: ``log(step, metrics)``.
        save: ``save(step)`` writes a checkpoint; called every ``checkpoint_every`` steps and at the end.
        global_step: steps already taken (non-zero when resuming).
    """

    def __init__(self, agent, env, logger, save: Callable[[int], Any], checkpoint_every: int,
                 global_step: int = 0, seed: int | None = None, progress_bar: bool = True):
        self.agent, self.env, self.logger, self.save = agent, env, logger, save
        self.checkpoint_every, self.global_step, self.seed = checkpoint_every, global_step, seed
        self.storage = agent.make_storage(observation_layout(env.single_observation_space))
        self.progress_bar = progress_bar
        self._episode_sum = torch.zeros((), device=agent.device)
        self._episode_count = torch.zeros((), device=agent.device)
        self._episode_length_sum = torch.zeros((), device=agent.device)
        self._episode_terminated = torch.zeros((), device=agent.device)

    def learn(self) -> dict[str, float]:
        total = self.agent.config.total_steps
        rollout = self.storage.n_steps * self.storage.num_envs
        obs = self.env.reset(seed=self.seed)
        self.agent.reset_state(self.env.num_envs)
        last_saved, metrics, recent_return = self.global_step, {}, float("nan")
        bar = tqdm(total=total, initial=self.global_step, unit="step", disable=not self.progress_bar,
                   dynamic_ncols=True)
        while self.global_step < total:
            started = time.perf_counter()
            obs = self.collect(obs)
            collected = time.perf_counter()
            metrics = self.agent.update(self.storage, progress=self.global_step / total)
            self.global_step += rollout
            metrics.update(self.episode_metrics(), steps_per_second=rollout / (time.perf_counter() - started),
                           rollout_seconds=collected - started, update_seconds=time.perf_counter() - collected)
            self.logger.log(self.global_step, metrics)
            bar.update(rollout)
            # Long episodes end only every few rollouts: show the latest finished ones' return.
            recent_return = metrics.get("episode_return", recent_return)
            bar.set_postfix(sps=f"{metrics['steps_per_second']:.0f}", ret=f"{recent_return:.1f}")
            if self.global_step - last_saved >= self.checkpoint_every or self.global_step >= total:
                self.save(self.global_step)
                last_saved = self.global_step
        bar.close()
        return metrics

    @torch.inference_mode()
    def collect(self, obs: torch.Tensor) -> torch.Tensor:
        """Fill the storage with one rollout; episode statistics accumulate on the device."""
        for t in range(self.storage.n_steps):
            actions, log_probs, values = self.agent.act(obs)
            next_obs, rewards, terminated, truncated, info = self.env.step(actions)
            self.storage.add(t, obs, actions, log_probs, values, rewards, terminated, truncated, info["final_obs"])
            self.agent.record_step(t, self.storage, terminated, truncated, info)
            end = info.get("episode_end", terminated | truncated)  # whole episodes (see envs/core.py)
            self._episode_sum += info["episode_return"].sum()
            self._episode_length_sum += info["episode_length"].sum()
            self._episode_count += end.sum()
            self._episode_terminated += (end & terminated).sum()
            obs = next_obs
        return obs

    def episode_metrics(self) -> dict[str, float]:
        """Mean return and length of the episodes finished since the last call, and the share of them that
        the task ended rather than the time limit (CarRacing: laps finished inside 1,000 frames; one
        host sync)."""
        count = self._episode_count.item()
        if count == 0:
            return {}
        result = {"episode_return": self._episode_sum.item() / count,
                  "episode_length": self._episode_length_sum.item() / count, "episodes": count,
                  "terminated_fraction": self._episode_terminated.item() / count}
        for tensor in (self._episode_sum, self._episode_count, self._episode_length_sum, self._episode_terminated):
            tensor.zero_()
        return result
