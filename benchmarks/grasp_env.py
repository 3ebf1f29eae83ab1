"""Grasping env throughput: ours against PyBullet's own ``KukaDiverseObjectEnv``, one process run.

Both sides take uniform random actions with KukaDiverseObjectEnv's episode (Quillen et al.'s layout:
the gripper descends every step, at most 8 control steps, the grasp starts by itself low down) and
count env steps per second of wall time, resets and grasps included, after a warm-up.

- ``grasp_env``: ``KukaGraspAuto-v0`` as registered (64x64 camera, 16 physics steps per action at 40
  solver iterations, pooled resets) on the ``pybullet`` backend, one worker per core.
- ``grasp_env_same_settings``: ours with the original's physics and camera (80 physics steps per
  action, 150 solver iterations, 48x48 camera), so only resets, rendering, the grasp routine (ours
  closes in 40 and lifts in 48 physics steps, the original in 500 + 500) and the backend differ.
- ``--workers 1 2 4``: the backend's throughput by worker count (our settings).

The original needs the old ``gym`` package; it is installed once into ``--gym-dir`` with pip
(``gym==0.23.1 gym-notices setuptools<81``, no dependencies) and put on ``sys.path`` for that side only.

    .venv/bin/python benchmarks/grasp_env.py --seconds 20 --repeats 3 --workers 1 2 4
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import machine_line  # noqa: E402

GYM_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), ".cache", "oldgym")


def original(seconds: float, warmup: float, seed: int) -> dict:
    """KukaDiverseObjectEnv with its defaults (48x48, 80 physics steps per action, 150 iterations)."""
    if not os.path.exists(os.path.join(args_gym_dir(), "gym")):
        subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--target", args_gym_dir(), "--no-deps",
                        "gym==0.23.1", "gym-notices", "setuptools<81"], check=True)
    if args_gym_dir() not in sys.path:
        sys.path.insert(0, args_gym_dir())
    import warnings

    warnings.filterwarnings("ignore")
    from pybullet_envs.bullet.kuka_diverse_object_gym_env import KukaDiverseObjectEnv

    env = KukaDiverseObjectEnv(renders=False, isDiscrete=False)
    env.seed(seed)
    np.random.seed(seed)
    env.reset()

    def run(duration: float) -> tuple[int, int, float]:
        steps = episodes = 0
        t0 = time.perf_counter()
        while time.perf_counter() - t0 < duration:
            _, _, done, _ = env.step(env.action_space.sample())
            steps += 1
            if done:
                env.reset()
                episodes += 1
        return steps, episodes, time.perf_counter() - t0

    run(warmup)
    steps, episodes, elapsed = run(seconds)
    env.close()
    return {"steps_per_second": steps / elapsed, "steps_per_episode": steps / max(episodes, 1)}


def ours(seconds: float, warmup: float, seed: int, num_envs: int, workers: int | None, settings: str) -> dict:
    from sensorimotor.envs import make_vec
    from sensorimotor.sim.pybullet.grasping.config import GRASP_AUTO, GRASP_ORIGINAL_SETTINGS

    config = GRASP_AUTO if settings == "ours" else GRASP_ORIGINAL_SETTINGS
    env = make_vec("KukaGraspAuto-v0", num_envs, backend="pybullet", num_workers=workers, config=config)
    generator = torch.Generator().manual_seed(seed)
    env.reset(seed=seed)
    shape = (num_envs, *env.single_action_space.shape)

    def run(duration: float) -> tuple[int, int, float]:
        steps = episodes = 0
        t0 = time.perf_counter()
        while time.perf_counter() - t0 < duration:
            _, _, terminated, truncated, _ = env.step(torch.rand(shape, generator=generator) * 2 - 1)
            steps += num_envs
            episodes += int((terminated | truncated).sum())
        return steps, episodes, time.perf_counter() - t0

    run(warmup)  # the first pools of settled scenes are built here
    steps, episodes, elapsed = run(seconds)
    env.close()
    return {"steps_per_second": steps / elapsed, "steps_per_episode": steps / max(episodes, 1)}


def args_gym_dir() -> str:
    return ARGS.gym_dir


def median_rate(runs: list[dict]) -> float:
    return statistics.median(r["steps_per_second"] for r in runs)


def main() -> None:
    global ARGS
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=20.0, help="timed seconds per run")
    parser.add_argument("--warmup", type=float, default=10.0,
                        help="untimed seconds before each run (ours builds its first pools of settled scenes)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--num-envs", type=int, default=8)
    parser.add_argument("--workers", type=int, nargs="*", default=[], help="also time the backend at these counts")
    parser.add_argument("--gym-dir", default=GYM_DIR, help="where the old gym package is installed")
    parser.add_argument("--skip-same-settings", action="store_true")
    ARGS = parser.parse_args()
    print(machine_line())
    base, ours_runs, same_runs = [], [], []
    for i in range(ARGS.repeats):
        base.append(original(ARGS.seconds, ARGS.warmup, i))
        ours_runs.append(ours(ARGS.seconds, ARGS.warmup, i, ARGS.num_envs, None, "ours"))
        if not ARGS.skip_same_settings:
            same_runs.append(ours(ARGS.seconds, ARGS.warmup, i, ARGS.num_envs, None, "original"))
        print(f"repeat {i}: original {base[-1]['steps_per_second']:.1f}, ours {ours_runs[-1]['steps_per_second']:.1f}"
              + (f", ours with the original's settings {same_runs[-1]['steps_per_second']:.1f}" if same_runs else "")
              + " env-steps/s", flush=True)
    b = median_rate(base)
    print(f"KukaDiverseObjectEnv: {b:.1f} env-steps/s ({[round(r['steps_per_second'], 1) for r in base]}; "
          f"{statistics.median(r['steps_per_episode'] for r in base):.1f} steps per episode)")
    print(f"grasp_env: ours {median_rate(ours_runs):.1f} env-steps/s ({[round(r['steps_per_second']) for r in ours_runs]}; "
          f"{statistics.median(r['steps_per_episode'] for r in ours_runs):.1f} steps per episode); "
          f"ratio {median_rate(ours_runs) / b:.1f}")
    if same_runs:
        print(f"grasp_env_same_settings: ours {median_rate(same_runs):.1f} env-steps/s "
              f"({[round(r['steps_per_second'], 1) for r in same_runs]}); ratio {median_rate(same_runs) / b:.1f}")
    for workers in ARGS.workers:
        runs = [ours(ARGS.seconds, ARGS.warmup, i, ARGS.num_envs, workers, "ours") for i in range(ARGS.repeats)]
        print(f"pybullet backend, {workers} worker(s), {ARGS.num_envs} envs: {median_rate(runs):.1f} env-steps/s "
              f"({[round(r['steps_per_second']) for r in runs]})", flush=True)


if __name__ == "__main__":
    main()
