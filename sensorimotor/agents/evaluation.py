"""``evaluate``: run a trained policy for N episodes with frozen normalizers; summary, video, curve."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass

import numpy as np
import torch
import tyro

from sensorimotor.agents.episode_tally import EpisodeTally
from sensorimotor.agents.ppo import PPO
from sensorimotor.agents.trained_run import load_trained_run
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
    """Act with the distribution's mean (or argmax) instead of sampling (PPO runs)."""
    epsilon: float = 0.001
    """DQN runs: the evaluation epsilon (0.001 per Machado et al. 2018; 0.05 as in Mnih et al. 2015)."""
    seed: int = 10_000
    checkpoint: str | None = None
    """Which checkpoint: ``step_<n>`` or ``<n>`` (training keeps the 3 newest); default the last one."""


def evaluate(args: EvaluateArgs) -> dict:
    """Returns the summary written to ``<run>/eval/summary.json``."""
    check(args.episodes > 0, f"episodes must be positive, got {args.episodes}.")
    check(0.0 <= args.epsilon <= 1.0, f"epsilon must be in [0, 1], got {args.epsilon}.")
    if _agent_of(args.run_dir) == "dqn":
        return _evaluate_dqn(args)
    num_envs = 1 if args.video else min(args.episodes, 8)
    run = load_trained_run(args.run_dir, num_envs, render_mode="rgb_array" if args.video else None,
                           checkpoint=args.checkpoint)
    train_args, env, agent, checkpoint, state = run.train_args, run.env, run.agent, run.checkpoint, run.state
    if args.video:
        env = RecordVideo(env, os.path.join(args.run_dir, "videos"), prefix=f"step{state['step']}",
                          max_episodes=args.video_episodes)
    returns, lengths, ended = _run_episodes(agent, env, args)
    env.close()
    summary = {
        "env": train_args.env, "checkpoint": checkpoint, "step": int(state["step"]), "episodes": len(returns),
        "deterministic": args.deterministic, **_statistics(returns, lengths, ended),
        "videos": list(getattr(env, "paths", [])), "learning_curve": plot_learning_curve(args.run_dir),
    }
    return _write_summary(args.run_dir, summary)


def _agent_of(run_dir: str) -> str | None:
    path = os.path.join(run_dir, "config.json")
    try:
        return json.load(open(path)).get("agent")
    except (OSError, json.JSONDecodeError):
        return None  # load_trained_run gives the one-line error


def _evaluate_dqn(args: EvaluateArgs) -> dict:
    from sensorimotor.agents.dqn.evaluation import load_dqn_run, make_eval_env, protocol_summary, run_dqn_episodes

    train_args, agent, state, checkpoint = load_dqn_run(args.run_dir, args.checkpoint)
    env = make_eval_env(train_args, 1 if args.video else min(args.episodes, 8), args.video)
    if args.video:
        env = RecordVideo(env, os.path.join(args.run_dir, "videos"), prefix=f"step{state['step']}",
                          max_episodes=args.video_episodes)
    returns, lengths, ended = run_dqn_episodes(agent, env, args.episodes, args.epsilon, args.seed)
    env.close()
    summary = {"env": train_args.env, "checkpoint": checkpoint, "step": int(state["step"]), "episodes": len(returns),
               "protocol": protocol_summary(train_args, args.epsilon), **_statistics(returns, lengths, ended),
               "videos": list(getattr(env, "paths", [])), "learning_curve": plot_learning_curve(args.run_dir)}
    return _write_summary(args.run_dir, summary)


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


@torch.inference_mode()
def _run_episodes(agent: PPO, env, args: EvaluateArgs) -> tuple[list[float], list[int], list[bool]]:
    """Returns, lengths and whether each episode terminated (rather than hit its time limit)."""
    tally = EpisodeTally(env.num_envs, args.episodes)
    obs = env.reset(seed=args.seed)
    agent.reset_state(env.num_envs)
    while not tally.complete:
        actions, _, _ = agent.act(obs, deterministic=args.deterministic)
        obs, _, terminated, truncated, info = env.step(actions)
        agent.end_episodes(terminated | truncated)
        done = terminated | truncated
        if bool(done.any()):
            tally.add(done, info["episode_return"].cpu(), info["episode_length"].cpu(), terminated.cpu())
    return tally.returns, tally.lengths, tally.terminated
