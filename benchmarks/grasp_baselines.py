"""Grasp success of the policies that need no learning: uniform random actions and the scripted
grasper (privileged state: over the nearest object, turn, descend, close, lift).

Each policy runs ``--episodes`` episodes on train objects and on the held-out test objects, every
episode a freshly built world (``reset_mode="fresh"``: new objects, new layout, bitwise reproducible
from ``--seed``). Rows ``grasp_random_<split>`` and ``grasp_scripted_<split>`` in results.md.

    .venv/bin/python benchmarks/grasp_baselines.py --episodes 200
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import machine_line  # noqa: E402

from sensorimotor.envs import make  # noqa: E402
from sensorimotor.sim.pybullet.grasping.scripted import ScriptedGrasper  # noqa: E402

IDS = {"train": "KukaGrasp-v0", "test": "KukaGrasp-Test-v0"}
AUTO_IDS = {"train": "KukaGraspAuto-v0", "test": "KukaGraspAuto-Test-v0"}


def success_rate(env_id: str, policy: str, episodes: int, seed: int) -> tuple[float, float, float]:
    """(success rate, mean episode length, seconds per episode) of ``policy`` on ``env_id``."""
    env = make(env_id, reset_mode="fresh")
    task = env.unwrapped
    expert = ScriptedGrasper(task.config)
    env.action_space.seed(seed)
    successes, lengths = 0, []
    started = time.perf_counter()
    for episode in range(episodes):
        env.reset(seed=seed + episode)
        done, length = False, 0
        while not done:
            action = expert.act(task.privileged()) if policy == "scripted" else env.action_space.sample()
            _, _, terminated, truncated, info = env.step(action)
            done, length = terminated or truncated, length + 1
        successes += bool(info["grasp_success"])
        lengths.append(length)
    env.close()
    return successes / episodes, float(np.mean(lengths)), (time.perf_counter() - started) / episodes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--episodes", type=int, default=200)
    parser.add_argument("--seed", type=int, default=10_000)
    parser.add_argument("--layouts", nargs="+", default=["qtopt", "auto"], choices=["qtopt", "auto"])
    args = parser.parse_args()
    print(machine_line())
    for layout in args.layouts:
        ids = IDS if layout == "qtopt" else AUTO_IDS
        for policy in ("random", "scripted"):
            for split, env_id in ids.items():
                rate, length, seconds = success_rate(env_id, policy, args.episodes, args.seed)
                print(f"grasp_{policy}_{split}{'' if layout == 'qtopt' else '_auto'}: {env_id}, {args.episodes} episodes: "
                      f"success {rate:.1%} ({round(rate * args.episodes)}), {length:.1f} steps per episode, "
                      f"{seconds:.2f} s per episode", flush=True)


if __name__ == "__main__":
    main()
