"""Training throughput: our SAC against Stable-Baselines3 SAC on HalfCheetah-v5, one process.

SB3's default settings on both sides: one env, batch 256, one gradient step per env step, [256, 256]
ReLU actor and twin critics, learned entropy coefficient, tau 0.005, 100 random steps first. Both
sides are timed after a warm-up of ``--warmup`` steps past learning_starts (ours: the one-off compile
of the update, reported apart); steps/s is then env steps with one update each.

    .venv/bin/python benchmarks/sac_mujoco.py --steps 3000 --sb3-steps 1500 --repeats 3
"""

from __future__ import annotations

import argparse
import sys
import time

import torch

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from common import alternate, machine_line, medians, print_ratio  # noqa: E402

ENV = "HalfCheetah-v5"


class _Marks:
    """A logger that keeps (step, time) pairs: the runner logs every ``log_every`` steps."""

    def __init__(self):
        self.marks = []

    def log(self, step, metrics):
        self.marks.append((step, time.perf_counter()))


def ours(steps: int, warmup: int, seed: int) -> dict:
    from dataclasses import replace

    from sensorimotor.agents.off_policy_runner import OffPolicyRunner
    from sensorimotor.agents.sac import PRESETS, SAC, make_env, training_threads

    torch.manual_seed(seed)
    config = replace(PRESETS["default"], total_steps=warmup + steps)
    env = make_env(ENV, config)
    torch.set_num_threads(training_threads(tuple(env.single_observation_space.shape), config))  # as `train sac`
    agent = SAC(config, env.single_observation_space, env.single_action_space)
    marks = _Marks()
    runner = OffPolicyRunner(agent, env, marks, save=lambda s: None, checkpoint_every=10**12, seed=seed,
                             progress_bar=False, log_every=config.learning_starts)
    started = time.perf_counter()
    runner.learn()
    env.close()
    (s0, t0), = [(s, t) for s, t in marks.marks if s == warmup]
    s1, t1 = marks.marks[-1]
    compile_seconds = t0 - started
    return {"steps_per_second": (s1 - s0) / (t1 - t0), "warmup_seconds": compile_seconds}


def sb3(steps: int, warmup: int, seed: int) -> dict:
    import gymnasium as gym
    from stable_baselines3 import SAC as SB3SAC

    env = gym.make(ENV)
    model = SB3SAC("MlpPolicy", env, seed=seed, device="cpu", verbose=0)
    model.learn(warmup)
    t0 = time.perf_counter()
    model.learn(steps, reset_num_timesteps=False)
    elapsed = time.perf_counter() - t0
    env.close()
    return {"steps_per_second": steps / elapsed}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=3000)
    parser.add_argument("--sb3-steps", type=int, default=1500)
    parser.add_argument("--warmup", type=int, default=500, help="steps before timing (a multiple of 100)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeats", type=int, default=3, help="alternating runs; medians are printed")
    args = parser.parse_args()
    a_runs, b_runs = alternate(args.repeats, lambda i: sb3(args.sb3_steps, args.warmup, args.seed + i),
                               lambda i: ours(args.steps, args.warmup, args.seed + i))
    a = medians(a_runs)
    print(machine_line())
    print(f"ours: {a['steps_per_second']:.0f} steps/s (first {args.warmup} steps incl. compile {a['warmup_seconds']:.1f} s)")
    print_ratio(a_runs, b_runs, "sb3")


if __name__ == "__main__":
    main()
