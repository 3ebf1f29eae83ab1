"""CarRacing-Repeat4-v3's env speed: decisions/s (4 frames each) with every frame drawn and with only
the last frame of each decision drawn (``RepeatAction(draw_last_frame_only=True)``, what the registered
id does), one process, alternating, random actions, medians printed.

    .venv/bin/python benchmarks/car_racing_env.py --decisions 500 --repeats 5
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import machine_line  # noqa: E402


def decisions_per_second(draw_last_frame_only: bool, decisions: int, seed: int) -> float:
    import gymnasium as gym

    from sensorimotor.envs.gymnasium_ids import RepeatAction

    env = RepeatAction(gym.make("CarRacing-v3"), 4, draw_last_frame_only=draw_last_frame_only)
    rng = np.random.default_rng(seed)
    env.reset(seed=seed)
    started = time.perf_counter()
    for _ in range(decisions):
        action = rng.uniform([-1, 0, 0], [1, 1, 0.2]).astype(np.float32)
        if any(env.step(action)[2:4]):
            env.reset()
    elapsed = time.perf_counter() - started
    env.close()
    return decisions / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--decisions", type=int, default=500)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    print(machine_line())
    every, last = [], []
    for i in range(args.repeats):
        every.append(decisions_per_second(False, args.decisions, i))
        last.append(decisions_per_second(True, args.decisions, i))
    a, b = statistics.median(last), statistics.median(every)
    print(f"car_racing_env every frame drawn: {b:.0f} decisions/s ({[round(r) for r in every]})")
    print(f"car_racing_env last frame drawn: {a:.0f} decisions/s ({[round(r) for r in last]})")
    print(f"ratio: {a / b:.2f}")


if __name__ == "__main__":
    main()
