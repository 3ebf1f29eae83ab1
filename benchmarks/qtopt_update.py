"""QT-Opt's update and acting cost by where the action joins the image (``late`` or ``tiled``), on
synthetic 64x64 batches (the cost does not depend on the pixels), in one process run.

    .venv/bin/python benchmarks/qtopt_update.py --repeats 15
"""

from __future__ import annotations

import argparse
import statistics
import time

import gymnasium as gym
import numpy as np
import torch

from sensorimotor.agents.buffers.episode_streams import DictTransitionBatch
from sensorimotor.agents.qtopt import QTOpt, QTOptConfig


def timed(fn, repeats: int) -> float:
    fn()
    fn()
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--envs", type=int, default=8)
    args = parser.parse_args()
    space = gym.spaces.Dict({"pixels": gym.spaces.Box(0, 255, (3, 64, 64), np.uint8),
                             "state": gym.spaces.Box(-1, 1, (3,), np.float32)})
    actions = gym.spaces.Box(-1, 1, (3,), np.float32)
    b = args.batch
    obs = {"pixels": torch.randint(0, 255, (b, 3, 64, 64), dtype=torch.uint8), "state": torch.rand(b, 3)}
    batch = DictTransitionBatch(obs, torch.rand(b, 3) * 2 - 1, torch.zeros(b), obs, torch.zeros(b, dtype=torch.bool))
    acting = {k: v[:args.envs] for k, v in obs.items()}
    print(f"threads {torch.get_num_threads()}, batch {b}, CEM 64 x 2")
    for fusion in ("late", "tiled"):
        agent = QTOpt(QTOptConfig(fusion=fusion), space, actions)
        update = timed(lambda: agent.train_batch(batch), args.repeats)
        act = timed(lambda: agent.predict(acting), args.repeats)
        print(f"{fusion:>5}: update {update * 1000:.1f} ms ({1 / update:.1f}/s), act {args.envs} envs {act * 1000:.1f} ms")


if __name__ == "__main__":
    main()
