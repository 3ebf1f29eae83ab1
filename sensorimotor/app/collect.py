"""``collect``: run a policy that needs no training (an env's scripted expert, or uniform random
actions) and write whole episodes to an episode dataset (``utils/datasets.py``).

Envs that have a demonstrator expose ``expert_action()`` on the unwrapped env (the grasping tasks'
scripted grasper). Episode ``i`` is seeded ``seed + i``; with ``--workers W`` the episodes are split
over W spawned processes, each writing its own part file. A killed collection is continued by running
the same command again: the episodes already whole on disk are skipped.
"""

from __future__ import annotations

import multiprocessing as mp
import time
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from sensorimotor.errors import UserError, check
from sensorimotor.utils import datasets


@dataclass(frozen=True)
class CollectArgs:
    """Write episodes of a scripted expert or a random policy to a dataset folder."""

    env: str
    """A registered env id, e.g. ``KukaGrasp-v0``."""
    out: str
    """The dataset folder (created; an existing one of the same collection is continued)."""
    episodes: int = 100
    policy: Literal["expert", "random"] = "expert"
    """``expert``: the env's scripted demonstrator (``expert_action()``); ``random``: uniform actions."""
    noise: float = 0.0
    """Gaussian noise (std, in action units) added to the expert's actions: exploration for learners."""
    seed: int = 0
    workers: int = 1
    """Processes collecting in parallel (PyBullet holds the GIL: one per core)."""
    options: dict[str, str] = field(default_factory=dict)
    """Task options as for ``make(env, **options)``, e.g. ``--options reset_mode fresh``."""


def _task_options(options: dict[str, str]) -> dict:
    """CLI strings to numbers and booleans where they read as such."""
    out = {}
    for key, text in options.items():
        value = {"true": True, "false": False}.get(text.lower(), text)
        if isinstance(value, str):
            for kind in (int, float):
                try:
                    value = kind(text)
                    break
                except ValueError:
                    pass
        out[key] = value
    return out


def collect(args: CollectArgs) -> dict:
    """Collect the missing episodes; returns a summary (episodes on disk, success rate of this run)."""
    from sensorimotor.envs.registry import spec

    spec(args.env)  # an unknown id: one line now, not from every worker
    check(args.episodes >= 1, f"--episodes must be at least 1, got {args.episodes}.")
    check(1 <= args.workers <= 64, f"--workers must be 1..64, got {args.workers}.")
    check(args.noise >= 0, f"--noise must be >= 0, got {args.noise}.")
    datasets.write_manifest(args.out, {"env": args.env, "policy": args.policy, "noise": args.noise,
                                       "seed": args.seed, "options": dict(args.options)})
    done = datasets.complete_episodes(args.out)
    todo = [i for i in range(args.episodes) if i not in done]
    first_part = len(datasets.part_files(args.out))
    started = time.perf_counter()
    if args.workers == 1 or len(todo) <= 1:
        results = [_collect_part(args, todo, first_part)]
    else:
        shares = [todo[w::args.workers] for w in range(args.workers)]
        with mp.get_context("spawn").Pool(args.workers) as pool:
            results = pool.starmap(_collect_part, [(args, share, first_part + w) for w, share in enumerate(shares)
                                                  if share])
    successes = [s for r in results for s in r["successes"]]
    steps = sum(r["steps"] for r in results)
    return {"dataset": args.out, "episodes_on_disk": len(done) + len(successes), "episodes_this_run": len(successes),
            "skipped": len(done), "success_rate_this_run": float(np.mean(successes)) if successes else None,
            "env_steps_per_second": steps / max(time.perf_counter() - started, 1e-9)}


def _collect_part(args: CollectArgs, episodes: list[int], part: int) -> dict:
    from sensorimotor.envs.registry import make

    env = make(args.env, **_task_options(args.options))
    task = env.unwrapped
    if args.policy == "expert" and not hasattr(task, "expert_action"):
        env.close()
        raise UserError(f"{args.env} has no scripted expert (expert_action); use --policy random.")
    rng = np.random.default_rng(args.seed + 7919 * part)
    env.action_space.seed(args.seed + part)
    space = env.action_space
    writer = datasets.EpisodeWriter(args.out, part, {"env": args.env, "policy": args.policy})
    successes, steps = [], 0
    try:
        for episode in episodes:
            obs, _ = env.reset(seed=args.seed + episode)
            step, done, info = 0, False, {}
            while not done:
                if args.policy == "expert":
                    action = task.expert_action()
                    if args.noise:
                        action = np.clip(action + rng.normal(0, args.noise, action.shape), space.low, space.high)
                    action = action.astype(space.dtype)
                else:
                    action = space.sample()
                next_obs, reward, terminated, truncated, info = env.step(action)
                done = terminated or truncated
                dense = {k: info[k] for k in task.metadata.get("info_keys", {}) if k in info}
                writer.step(episode, step, obs, action, reward, terminated, truncated, dense,
                            next_observation=next_obs if done else None)
                obs, step = next_obs, step + 1
            steps += step
            successes.append(bool(info.get("grasp_success", info.get("is_success", False))))
    finally:
        writer.close()
        env.close()
    return {"successes": successes, "steps": steps}
