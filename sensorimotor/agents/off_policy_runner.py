"""The off-policy runner: collect into the agent's replay, update at a set ratio, log, checkpoint.
DQN, SAC and QT-Opt use it; any agent with the :class:`~sensorimotor.agents.base.OffPolicyLearner`
methods can. An agent whose replay starts with offline data (QT-Opt's datasets) says how many
gradient steps it owes to that data alone (``offline_updates_left``); the runner takes them before
the first env step, at env step 0, logging and checkpointing on the update count."""

from __future__ import annotations

import time
from typing import Any, Callable

import torch
from tqdm import tqdm

from sensorimotor.agents.collectors.ray_farm import acting_weights
from sensorimotor.agents.metric_means import MetricMeans


class OffPolicyRunner:
    """Owns time only: when to update (``learning_starts``, ``train_every`` env steps per update), when to
    log and when to save. Exploration, reward shaping for the replay, sampling, priorities and target
    networks are the agent's.

    Args:
        agent: an off-policy learner whose ``config`` has ``total_steps``, ``learning_starts`` and
            ``train_every``.
        env: the VecEnv; ``info["episode_end"]`` (Atari with life-loss terminals) marks real game ends.
        logger: ``log(step, metrics)``.
        save: ``save(step)`` writes a checkpoint; called every ``checkpoint_every`` steps and at the end.
        global_step: steps already taken (non-zero when resuming).
        log_every: environment steps between log rows (update metrics are their mean since the last row).
    """

    def __init__(self, agent, env, logger, save: Callable[[int], Any], checkpoint_every: int,
                 global_step: int = 0, seed: int | None = None, progress_bar: bool = True, log_every: int = 10_000,
                 farm=None, broadcast_every: int = 50):
        self.agent, self.env, self.logger, self.save = agent, env, logger, save
        self.farm, self.broadcast_every = farm, broadcast_every
        self.checkpoint_every, self.global_step, self.seed = checkpoint_every, global_step, seed
        self.progress_bar, self.log_every = progress_bar, log_every
        self.replay = agent.make_replay(env)
        self.learning_starts_offset = 0  # a resumed run refills its (empty) replay before updating
        device = agent.device
        self._episodes = torch.zeros(3, device=device)  # return sum, length sum, count since the last log

    def learn(self) -> dict[str, float]:
        c, env, n = self.agent.config, self.env, self.env.num_envs
        offline = self.agent.offline_updates_left() if hasattr(self.agent, "offline_updates_left") else 0
        logged = self._learn_offline(offline) if offline and self.global_step == 0 else {}
        if self.global_step >= c.total_steps:
            return logged
        if self.farm is not None:
            return self._learn_with_farm()
        obs = env.reset(seed=self.seed)
        self.replay.start(obs)
        update_means, logged = MetricMeans(), {}
        last_log = last_saved = steps_at_start = self.global_step
        update_debt = 0.0  # updates owed: num_envs / train_every per vector step
        started = time.perf_counter()
        bar = tqdm(total=c.total_steps, initial=self.global_step, unit="step", disable=not self.progress_bar,
                   dynamic_ncols=True)
        while self.global_step < c.total_steps:
            obs = self._collect_step(obs)
            self.global_step += n
            if self.global_step >= c.learning_starts + self.learning_starts_offset:
                update_debt += n / c.train_every
                while update_debt >= 1.0:
                    update_means.add(self.agent.update(self.replay, self.global_step))
                    update_debt -= 1.0
            bar.update(n)
            if self.global_step - last_log >= self.log_every or self.global_step >= c.total_steps:
                rate = (self.global_step - steps_at_start) / max(time.perf_counter() - started, 1e-9)
                logged = {**update_means.pop(), **self.agent.schedule(self.global_step), **self._episode_metrics(),
                          "replay_size": len(self.replay), "steps_per_second": rate}
                self.logger.log(self.global_step, logged)
                if "episode_return" in logged:
                    bar.set_postfix(sps=f"{rate:.0f}", ret=f"{logged['episode_return']:.1f}")
                last_log = self.global_step
            last_saved = self._save_if_due(last_saved)
        bar.close()
        return logged

    def _learn_offline(self, updates: int, log_every: int = 250, save_every: int = 2_000) -> dict[str, float]:
        """``updates`` gradient steps on the replay as it is (its offline part); a checkpoint at env step 0
        every ``save_every`` updates and at the end, so a killed offline phase resumes where it stopped."""
        means, logged, started = MetricMeans(), {}, time.perf_counter()
        bar = tqdm(total=updates, unit="update", disable=not self.progress_bar, dynamic_ncols=True, desc="offline")
        for done in range(1, updates + 1):
            means.add(self.agent.update(self.replay, self.global_step))
            bar.update(1)
            if done % log_every == 0 or done == updates:
                rate = done / max(time.perf_counter() - started, 1e-9)
                logged = {**means.pop(), "offline_updates": self.agent.updates, "updates_per_second": rate}
                self.logger.log(self.global_step, logged)
                bar.set_postfix(loss=f"{logged.get('loss', float('nan')):.4f}")
            if done % save_every == 0 or done == updates:
                self.save(self.global_step)
        bar.close()
        return logged

    def _learn_with_farm(self) -> dict[str, float]:
        """The loop of :meth:`learn` with the farm's collectors in place of the runner's envs."""
        from sensorimotor.agents.collectors.episodes import episode_length, feed_episode

        c, farm = self.agent.config, self.farm
        update_means, logged = MetricMeans(), {}
        last_log = last_saved = steps_at_start = self.global_step
        update_debt, since_broadcast, waited = 0.0, 0, 0.0
        started = time.perf_counter()
        bar = tqdm(total=c.total_steps, initial=self.global_step, unit="step", disable=not self.progress_bar,
                   dynamic_ncols=True)
        farm.broadcast(acting_weights(self.agent), self.global_step)
        farm.start()
        while self.global_step < c.total_steps:
            polled = time.perf_counter()
            episodes = farm.poll(timeout=0.0 if update_debt >= 1.0 else 1.0)
            waited += time.perf_counter() - polled
            for episode in episodes:
                feed_episode(self.replay, episode, self.agent.stored_reward)
                length = episode_length(episode)
                self.global_step += length
                bar.update(length)
                self._episodes += torch.tensor([float(episode["reward"].sum()), float(length), 1.0],
                                               device=self._episodes.device)
                if self.global_step >= c.learning_starts + self.learning_starts_offset:
                    update_debt += length / c.train_every
            while update_debt >= 1.0:
                update_means.add(self.agent.update(self.replay, self.global_step))
                update_debt -= 1.0
                since_broadcast += 1
                if since_broadcast >= self.broadcast_every:
                    farm.broadcast(acting_weights(self.agent), self.global_step)
                    since_broadcast = 0
            if self.global_step - last_log >= self.log_every or self.global_step >= c.total_steps:
                elapsed = max(time.perf_counter() - started, 1e-9)
                stats = farm.stats
                logged = {**update_means.pop(), **self.agent.schedule(self.global_step), **self._episode_metrics(),
                          "replay_size": len(self.replay), "steps_per_second": (self.global_step - steps_at_start) / elapsed,
                          "learner_wait_fraction": waited / elapsed, "weights_version": farm.version,
                          "stale_episodes": stats.stale_episodes, "collector_restarts": stats.restarts,
                          "dropped_partial_episodes": stats.dropped_partial_episodes}
                self.logger.log(self.global_step, logged)
                last_log = self.global_step
            last_saved = self._save_if_due(last_saved)
        bar.close()
        return logged

    def _save_if_due(self, last_saved: int) -> int:
        """Checkpoint every ``checkpoint_every`` env steps and at the end; returns the step last saved at."""
        if self.global_step - last_saved >= self.checkpoint_every or self.global_step >= self.agent.config.total_steps:
            self.save(self.global_step)
            return self.global_step
        return last_saved

    def _collect_step(self, obs: torch.Tensor) -> torch.Tensor:
        """One vector step into the replay; episode statistics accumulate on the device (no host sync)."""
        action = self.agent.explore(obs, self.global_step)
        next_obs, reward, terminated, truncated, info = self.env.step(action)
        end = info.get("episode_end", terminated | truncated)
        self.replay.add(action, self.agent.stored_reward(reward), terminated, truncated, next_obs, info["final_obs"],
                        reset=end)
        end = end.to(self._episodes.device)
        self._episodes += torch.stack([(info["episode_return"].to(end.device) * end).sum(),
                                       (info["episode_length"].to(end.device) * end).sum(), end.sum()]).float()
        return next_obs

    def _episode_metrics(self) -> dict[str, float]:
        """Mean return and length of the episodes finished since the last call (one host sync)."""
        total_return, total_length, count = self._episodes.tolist()
        self._episodes.zero_()
        if count == 0:
            return {}
        return {"episode_return": total_return / count, "episode_length": total_length / count, "episodes": count}
