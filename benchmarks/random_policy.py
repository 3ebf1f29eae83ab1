"""The random-policy baseline of a learning row: uniform random actions on a registered env.

Prints the mean return and the share of episodes that terminate (on Doom's my_way_home: reach the
vest; on health_gathering: die) over ``--episodes`` episodes, seeded ``--seed``, ``--seed + 1``, ...

    .venv/bin/python benchmarks/random_policy.py Doom-MyWayHome-v1 --episodes 40
"""

from __future__ import annotations

import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from sensorimotor.envs import make  # noqa: E402


def random_episodes(env_id: str, episodes: int, seed: int) -> tuple[list[float], list[bool]]:
    """Returns and terminated flags of ``episodes`` episodes of uniform random actions."""
    env = make(env_id)
    env.action_space.seed(seed)
    returns, terminated_flags = [], []
    for episode in range(episodes):
        env.reset(seed=seed + episode)
        total, terminated, truncated = 0.0, False, False
        while not (terminated or truncated):
            _, reward, terminated, truncated, _ = env.step(env.action_space.sample())
            total += float(reward)
        returns.append(total)
        terminated_flags.append(bool(terminated))
    env.close()
    return returns, terminated_flags


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("env")
    parser.add_argument("--episodes", type=int, default=20)
    parser.add_argument("--seed", type=int, default=1000)
    args = parser.parse_args()
    returns, terminated = random_episodes(args.env, args.episodes, args.seed)
    print(f"{args.env}: {args.episodes} episodes of uniform random actions: return {np.mean(returns):.3f} "
          f"+- {np.std(returns):.3f}, terminated {sum(terminated)} of {args.episodes} ({np.mean(terminated):.1%})")


if __name__ == "__main__":
    main()
