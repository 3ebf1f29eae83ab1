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
from sensorimotor.utils.options import parse_options


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
    augment: int = 0
    """Extra views per step from shifted and turned camera poses, each labelled with the expert's
    action from there (PilotNet's augmentation, exact in simulation; envs with ``augmented_views``:
    the driving world). Stored with the step as ``aug.obs [V, ...]`` and ``aug.action [V, A]``."""


def collect(args: CollectArgs) -> dict:
    """Collect the missing episodes; returns a summary (episodes on disk, success rate of this run)."""
    from sensorimotor.envs.registry import spec

    spec(args.env)  # an unknown id: one line now, not from every worker
    check(args.episodes >= 1, f"--episodes must be at least 1, got {args.episodes}.")
    check(1 <= args.workers <= 64, f"--workers must be 1..64, got {args.workers}.")
    check(args.noise >= 0, f"--noise must be >= 0, got {args.noise}.")
    check(0 <= args.augment <= 64, f"--augment must be 0..64 views per step, got {args.augment}.")
    manifest = {"env": args.env, "policy": args.policy, "noise": args.noise, "seed": args.seed,
                "options": dict(args.options)}
    if args.augment:
        manifest["augment"] = args.augment
    datasets.write_manifest(args.out, manifest)
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
    successes = [s for r in results for s in r["successes"] if s is not None]
    returns = [g for r in results for g in r["returns"]]
    steps = sum(r["steps"] for r in results)
    return {"dataset": args.out, "episodes_on_disk": len(done) + len(returns), "episodes_this_run": len(returns),
            "skipped": len(done), "success_rate_this_run": float(np.mean(successes)) if successes else None,
            "mean_return_this_run": float(np.mean(returns)) if returns else None,
            "env_steps_per_second": steps / max(time.perf_counter() - started, 1e-9)}


def _collect_part(args: CollectArgs, episodes: list[int], part: int) -> dict:
    from sensorimotor.envs.registry import make

    env = make(args.env, **parse_options(args.options))
    task = env.unwrapped
    if args.policy == "expert" and not hasattr(task, "expert_action"):
        env.close()
        raise UserError(f"{args.env} has no scripted expert (expert_action); use --policy random.")
    if args.augment and not hasattr(task, "augmented_views"):
        env.close()
        raise UserError(f"{args.env} cannot render augmented views (no augmented_views); drop --augment.")
    rng = np.random.default_rng(args.seed + 7919 * part)
    env.action_space.seed(args.seed + part)
    space = env.action_space
    writer = datasets.EpisodeWriter(args.out, part, {"env": args.env, "policy": args.policy})
    successes, returns, steps = [], [], 0
    try:
        for episode in episodes:
            obs, _ = env.reset(seed=args.seed + episode)
            step, done, info, total = 0, False, {}, 0.0
            while not done:
                if args.policy == "expert":
                    action = task.expert_action()
                    if args.noise:
                        action = np.clip(action + rng.normal(0, args.noise, action.shape), space.low, space.high)
                    action = action.astype(space.dtype)
                else:
                    action = space.sample()
                views = None
                if args.augment:  # rendered before the step, from around the pose ``obs`` was seen at
                    pixels, labels = task.augmented_views(args.augment, rng=rng)
                    views = {"aug.obs": pixels, "aug.action": labels}
                next_obs, reward, terminated, truncated, info = env.step(action)
                done = terminated or truncated
                total += float(reward)
                dense = {k: info[k] for k in task.metadata.get("info_keys", {}) if k in info}
                writer.step(episode, step, obs, action, reward, terminated, truncated, dense,
                            next_observation=next_obs if done else None, extra_arrays=views)
                obs, step = next_obs, step + 1
            steps += step
            success = info.get("grasp_success", info.get("is_success"))
            successes.append(None if success is None else bool(success))
            returns.append(total)
    finally:
        writer.close()
        env.close()
    return {"successes": successes, "returns": returns, "steps": steps}
