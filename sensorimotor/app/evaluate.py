"""``evaluate``: run a trained policy of any agent for N episodes with frozen normalizers; summary,
video, learning curve."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, fields
from typing import Literal

import numpy as np
import torch
import tyro

from sensorimotor.agents.episode_tally import EpisodeTally
from sensorimotor.app.loading import load_run
from sensorimotor.app.run_dir import RunDir
from sensorimotor.envs.wrappers import RecordVideo
from sensorimotor.errors import check
from sensorimotor.utils.plotting import plot_learning_curve


@dataclass(frozen=True)
class EvaluateArgs:
    """Evaluate a checkpoint of a run directory (the last one unless --checkpoint names another)."""

    run_dir: tyro.conf.Positional[str]
    """A directory written by ``sensorimotor train``."""
    episodes: int = 10
    video: bool = False
    """Write MP4s of the first episodes to ``<run>/videos/``."""
    video_episodes: int = 1
    deterministic: bool = True
    """Act with the distribution's mean or the argmax instead of sampling."""
    epsilon: float | None = None
    """Agents evaluated epsilon-greedily (DQN, the Atari protocol): the evaluation epsilon; default the
    run's ``eval_epsilon`` (0.001 per Machado et al. 2018; 0.05 as in Mnih et al. 2015)."""
    beta_action: tuple[Literal["mean", "mode"], ...] | None = None
    """PPO runs with a Beta policy: act with the Beta's mean or its mode (the density's peak) when
    deterministic, one for all action dimensions or one per dimension (``mean mean mode``: CarRacing's
    brake at its mode); default the run's ``beta_action``."""
    seed: int = 10_000
    checkpoint: str | None = None
    """Which checkpoint: ``step_<n>`` or ``<n>`` (training keeps the 3 newest); default the last one."""
    env: str | None = None
    """Another registered env with the same observations and actions, e.g. the held-out split
    ``KukaGraspAuto-Test-v0`` of a run trained on ``KukaGraspAuto-v0``; default the run's own."""


def evaluate(args: EvaluateArgs) -> dict:
    """Returns the summary written to ``<run>/eval/summary.json``."""
    check(args.episodes > 0, f"episodes must be positive, got {args.episodes}.")
    overrides = _epsilon_override(args) | _beta_action_override(args)
    num_envs = 1 if args.video else min(args.episodes, 8)
    run = load_run(args.run_dir, num_envs, render_mode="rgb_array" if args.video else None,
                   checkpoint=args.checkpoint, overrides=overrides, env_id=args.env)
    env = run.env
    if args.video:
        env = RecordVideo(env, os.path.join(args.run_dir, "videos"), prefix=f"step{run.step}",
                          max_episodes=args.video_episodes)
    protocol = run.spec.evaluation_protocol(run.run.env, run.config) if run.spec.evaluation_protocol else None
    try:
        returns, lengths, ended = run_episodes(run.agent, env, args.episodes, args.deterministic, args.seed,
                                               epsilon=(protocol or {}).get("epsilon", 0.0))
    finally:
        env.close()
    trained_env = RunDir(args.run_dir).read()[1].env
    summary = {"env": run.run.env, "trained_env": trained_env, "agent": run.spec.name, "checkpoint": run.checkpoint,
               "step": run.step,
               "episodes": len(returns), "deterministic": args.deterministic}
    if getattr(run.config, "distribution", None) == "beta":
        summary["beta_action"] = list(run.config.beta_action)
    if protocol is not None:
        summary["protocol"] = protocol
    summary.update(_statistics(returns, lengths, ended), videos=list(getattr(env, "paths", [])),
                   learning_curve=plot_learning_curve(args.run_dir))
    return _write_summary(args.run_dir, summary)


def _epsilon_override(args: EvaluateArgs) -> dict:
    if args.epsilon is None:
        return {}
    check(0.0 <= args.epsilon <= 1.0, f"epsilon must be in [0, 1], got {args.epsilon}.")
    spec, _, config = RunDir(args.run_dir).read()
    check("eval_epsilon" in {f.name for f in fields(config)},
          f"--epsilon is for agents that act epsilon-greedily; {args.run_dir} was trained by {spec.name}.")
    return {"eval_epsilon": args.epsilon}


def _beta_action_override(args: EvaluateArgs) -> dict:
    if args.beta_action is None:
        return {}
    spec, _, config = RunDir(args.run_dir).read()
    check(getattr(config, "distribution", None) == "beta",
          f"--beta-action is for PPO runs with a Beta policy (--ppo.distribution beta); {args.run_dir} has none.")
    return {"beta_action": args.beta_action}


@torch.inference_mode()
def run_episodes(agent, env, episodes: int, deterministic: bool, seed: int,
                 epsilon: float = 0.0) -> tuple[list[float], list[int], list[bool]]:
    """Returns, lengths and whether each episode terminated (rather than hit its time limit), for
    ``episodes`` whole episodes (``info["episode_end"]``: whole games where lives end earlier).
    ``epsilon``: the share of steps that take a uniformly random action instead (discrete actions)."""
    tally = EpisodeTally(env.num_envs, episodes)
    obs = env.reset(seed=seed)
    agent.reset_state(env.num_envs)
    while not tally.complete:
        actions = agent.predict(obs, deterministic)
        if epsilon > 0.0:
            explore = torch.rand(actions.shape[0], device=actions.device) < epsilon
            random = torch.randint(0, int(env.single_action_space.n), actions.shape, device=actions.device)
            actions = torch.where(explore, random, actions)
        obs, _, terminated, truncated, info = env.step(actions)
        done = terminated | truncated
        agent.end_episodes(done)
        end = info.get("episode_end", done)
        if bool(end.any()):
            tally.add(end, info["episode_return"].cpu(), info["episode_length"].cpu(), terminated.cpu())
    return tally.returns, tally.lengths, tally.terminated


def _statistics(returns, lengths, ended) -> dict:
    return {
        "return_mean": float(np.mean(returns)), "return_std": float(np.std(returns)),
        "return_min": float(np.min(returns)), "return_max": float(np.max(returns)),
        "length_mean": float(np.mean(lengths)), "length_min": int(np.min(lengths)), "length_max": int(np.max(lengths)),
        # Share of episodes that terminated rather than hit the time limit: the success rate of a
        # reach-the-goal task (my_way_home), the death rate of a survival one (health_gathering).
        "terminated_fraction": float(np.mean(ended)),
    }


def _write_summary(run_dir: str, summary: dict) -> dict:
    """``eval/summary.json`` is the latest evaluation; ``eval/step_<n>.json`` keeps one per checkpoint
    so that evaluations of several checkpoints of a run can be compared."""
    os.makedirs(os.path.join(run_dir, "eval"), exist_ok=True)
    for name in ("summary.json", f"step_{summary['step']}.json"):
        with open(os.path.join(run_dir, "eval", name), "w") as f:
            json.dump(summary, f, indent=2)
    return summary
