"""The imitation runner: gather expert-labelled states, refit, log, checkpoint, one iteration at a time.
Behaviour cloning is its first iteration; DAgger (Ross et al. 2011) its later ones. The agent owns the
model, the fit and the mixture policy (``agents/bc``); the runner owns time and data.

Checkpoints are written after every iteration (``checkpoint_every`` is not used: an iteration is the
unit of work), with the aggregate dataset beside them, so a killed run resumes at its last iteration.
"""

from __future__ import annotations

import time
from typing import Any, Callable

import torch
from tqdm import tqdm

from sensorimotor.agents.bc.agent import EXPERT_KEY, load_demonstrations
from sensorimotor.agents.buffers.labelled_frames import LabelledFrames


class ImitationRunner:
    """Args:
        agent: a :class:`~sensorimotor.agents.bc.BehaviorCloning` (``predict``, ``mixture``, ``fit``,
            ``iteration``: finished iterations) whose config has ``total_steps`` (the label budget), ``iterations``,
            ``labels_per_iteration``, ``beta(i)`` and ``dataset``.
        env: the VecEnv; its info carries ``expert_action`` for each returned observation.
        global_step: labels gathered already (non-zero when resuming).
    """

    def __init__(self, agent, env, logger, save: Callable[[int], Any], checkpoint_every: int,
                 global_step: int = 0, seed: int | None = None, progress_bar: bool = True):
        self.agent, self.env, self.logger, self.save = agent, env, logger, save
        self.global_step, self.seed, self.progress_bar = global_step, seed, progress_bar
        self.replay = LabelledFrames()  # the aggregate (named as the off-policy replay: saved the same way)
        self.generator = torch.Generator().manual_seed(0 if seed is None else seed)

    def learn(self) -> dict[str, float]:
        agent, c = self.agent, self.agent.config
        bar = tqdm(total=c.total_steps, initial=self.global_step, unit="label", disable=not self.progress_bar,
                   dynamic_ncols=True)
        obs, labels, logged = self.env.reset(seed=self.seed), None, {}
        while self.global_step < c.total_steps:
            i, started = agent.iteration, time.perf_counter()
            # The last planned iteration takes what is left; a resume with a larger budget goes on
            # with more iterations of the same size.
            last = i >= c.iterations - 1
            budget = c.total_steps - self.global_step if last else min(c.labels_per_iteration,
                                                                       c.total_steps - self.global_step)
            if i == 0 and c.dataset is not None:
                demo_obs, demo_labels = load_demonstrations(c.dataset, budget)
                self.replay.add(demo_obs, demo_labels, iteration=0)
                gathered, stats = len(demo_obs), {"demonstrations": len(demo_obs)}
            else:
                obs, labels, gathered, stats = self._gather(obs, labels, budget, c.beta(i), i)
            self.global_step += gathered
            bar.update(gathered)
            fit = agent.fit(self.replay, self.generator)
            agent.iteration += 1
            logged = {"iteration": i, "beta": c.beta(i), "labels": gathered, "dataset_size": len(self.replay),
                      **stats, **fit, "seconds": time.perf_counter() - started}
            self.logger.log(self.global_step, logged)
            bar.set_postfix(it=i, loss=f"{fit['loss']:.4f}")
            self.save(self.global_step)
        bar.close()
        return logged

    def _gather(self, obs, labels, budget: int, beta: float, iteration: int):
        """Drive the mixture policy until ``budget`` states carry the expert's label; adds them to the
        aggregate. ``labels [N, A]``: the expert's action for ``obs`` (None right after a reset: the
        first observations have no label, so they are neither stored nor driven by the expert)."""
        env, agent, n = self.env, self.agent, self.env.num_envs
        kept_obs, kept_labels, gathered = [], [], 0
        disagreement, returns, off_road, steps = 0.0, [], 0, 0
        while gathered < budget:
            learner = agent.predict(obs)
            action = learner if labels is None else agent.mixture(learner, labels, beta, self.generator)
            next_obs, _, terminated, truncated, info = env.step(action)
            if labels is not None:
                take = min(n, budget - gathered)
                kept_obs.append(obs[:take].to("cpu", copy=True))
                kept_labels.append(labels[:take].to("cpu"))
                disagreement += float((learner[:take] - labels[:take].to(learner.device)).abs().sum())
                gathered += take
            done = terminated | truncated
            returns += info["episode_return"][done].tolist()
            off_road += int(terminated.sum())
            steps += n
            labels = info[EXPERT_KEY].to(torch.float32).reshape(n, -1)
            obs = next_obs
        self.replay.add(torch.cat(kept_obs), torch.cat(kept_labels), iteration)
        stats = {"expert_disagreement": disagreement / max(gathered, 1), "terminations_per_1k_steps":
                 1000.0 * off_road / steps}
        if returns:
            stats["episode_return"] = sum(returns) / len(returns)
        return obs, labels, gathered, stats
