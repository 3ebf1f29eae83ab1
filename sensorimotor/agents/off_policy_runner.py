"""The off-policy runner: act epsilon-greedily, store in the replay, update every few steps, log,
checkpoint. DQN uses it; any Q-learner with ``act(obs, epsilon)`` / ``update(batch)`` can."""

from __future__ import annotations

import time
from typing import Any, Callable

import numpy as np
import torch
from tqdm import tqdm

from sensorimotor.agents.buffers.replay import FrameReplay


def make_replay(config, obs_shape: tuple[int, ...], num_envs: int, frame_stack: int | None,
                pixels: bool) -> FrameReplay:
    """Frame-stacked observations ``[k, H, W]`` (the env's ``metadata["frame_stack"] = k``) store one
    frame per step, stacks rebuilt by index; any other observation is stored whole (a stack of 1),
    uint8 for pixels and float32 otherwise."""
    options = {"prioritized": config.prioritized, "alpha": config.priority_alpha,
               "priority_eps": config.priority_eps, "device": config.replay_device or config.device}
    if frame_stack:
        return FrameReplay(config.buffer_size, num_envs, tuple(obs_shape[1:]), stack=int(frame_stack), **options)
    return FrameReplay(config.buffer_size, num_envs, tuple(obs_shape), stack=1,
                       dtype=torch.uint8 if pixels else torch.float32, **options)


class OffPolicyRunner:
    """Args:
        agent: a :class:`~sensorimotor.agents.dqn.DQN`-like agent with ``config`` (``total_steps``,
            ``learning_starts``, ``train_every``, ``batch_size``, ``n_step``, ``gamma``,
            ``target_update_every``, ``epsilon(step)``, ``reward_clip``, ``prioritized``,
            ``priority_beta(step)``); ``update`` returns metrics and ``td_error`` ``[B]``.
        env: the VecEnv; ``info["episode_end"]`` (Atari with life-loss terminals) marks real game ends.
        logger, save, checkpoint_every, global_step, seed, progress_bar: as for the on-policy runner.
    """

    def __init__(self, agent, env, logger, save: Callable[[int], Any], checkpoint_every: int,
                 global_step: int = 0, seed: int | None = None, progress_bar: bool = True, log_every: int = 10_000):
        self.agent, self.env, self.logger, self.save = agent, env, logger, save
        self.checkpoint_every, self.global_step, self.seed = checkpoint_every, global_step, seed
        self.progress_bar, self.log_every = progress_bar, log_every
        space = env.single_observation_space
        frame_stack = env.metadata.get("frame_stack")
        self.flat = not frame_stack  # whole observations, stored as a stack of one
        self.replay = make_replay(agent.config, tuple(space.shape), env.num_envs, frame_stack,
                                  pixels=space.dtype == np.uint8)
        self.learning_starts_offset = 0  # a resumed run refills its (empty) replay before updating

    def _stacked(self, obs: torch.Tensor) -> torch.Tensor:
        return obs[:, None] if self.flat else obs

    def learn(self) -> dict[str, float]:
        c, env = self.agent.config, self.env
        n = env.num_envs
        obs = env.reset(seed=self.seed)
        self.replay.start(self._stacked(obs))
        returns, lengths, metrics, last_log, last_saved = [], [], {}, self.global_step, self.global_step
        update_debt = 0.0  # updates owed: num_envs / train_every per vector step
        last_target = self.global_step
        started, steps_at_start = time.perf_counter(), self.global_step
        bar = tqdm(total=c.total_steps, initial=self.global_step, unit="step", disable=not self.progress_bar,
                   dynamic_ncols=True)
        while self.global_step < c.total_steps:
            action = self.agent.act(obs, c.epsilon(self.global_step))
            next_obs, reward, terminated, truncated, info = env.step(action)
            end = info.get("episode_end", terminated | truncated)
            stored_reward = reward.clamp(-1.0, 1.0) if c.reward_clip else reward
            self.replay.add(action, stored_reward, terminated, truncated, self._stacked(next_obs),
                            self._stacked(info["final_obs"]), reset=end)
            if bool(end.any()):
                returns += info["episode_return"][end].tolist()
                lengths += info["episode_length"][end].tolist()
            obs = next_obs
            self.global_step += n
            if self.global_step >= c.learning_starts + self.learning_starts_offset:
                update_debt += n / c.train_every
                while update_debt >= 1.0:
                    batch = self.replay.sample(c.batch_size, gamma=c.gamma, n_step=c.n_step, device=self.agent.device,
                                               beta=c.priority_beta(self.global_step))
                    if self.flat:  # stored as a stack of one
                        batch.obs, batch.next_obs = batch.obs[:, 0], batch.next_obs[:, 0]
                    metrics = self.agent.update(batch)
                    td_error = metrics.pop("td_error")
                    if c.prioritized:
                        self.replay.update_priorities(batch.index, td_error)
                    update_debt -= 1.0
                if self.global_step - last_target >= c.target_update_every:
                    self.agent.update_target()
                    last_target = self.global_step
            bar.update(n)
            if self.global_step - last_log >= self.log_every or self.global_step >= c.total_steps:
                logged = {k: float(v) for k, v in metrics.items()}
                elapsed = time.perf_counter() - started
                logged.update(epsilon=c.epsilon(self.global_step), replay_size=len(self.replay),
                              steps_per_second=(self.global_step - steps_at_start) / max(elapsed, 1e-9))
                if returns:
                    logged.update(episode_return=sum(returns) / len(returns), episode_length=sum(lengths) / len(lengths),
                                  episodes=len(returns))
                    bar.set_postfix(sps=f"{logged['steps_per_second']:.0f}", ret=f"{logged['episode_return']:.1f}")
                    returns, lengths = [], []
                self.logger.log(self.global_step, logged)
                last_log = self.global_step
            if self.global_step - last_saved >= self.checkpoint_every or self.global_step >= c.total_steps:
                self.save(self.global_step)
                last_saved = self.global_step
        bar.close()
        return metrics
