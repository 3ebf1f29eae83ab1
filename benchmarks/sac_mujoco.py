"""Training throughput: our SAC against Stable-Baselines3 SAC on HalfCheetah-v5, one process.

SB3's default settings on both sides: one env, batch 256, one gradient step per env step, [256, 256]
ReLU actor and twin critics, learned entropy coefficient, tau 0.005, 100 random steps first. Both
sides are timed after a warm-up of ``--warmup`` steps past learning_starts (ours: the one-off compile
of the update, reported apart); steps/s is then env steps with one update each.

    .venv/bin/python benchmarks/sac_mujoco.py --steps 3000 --sb3-steps 1500 --repeats 3

``--profile`` times only our update: back to back, right after an env step, and on one thread.
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


def profile(threads: list[int]) -> None:
    """ms per update on a replay of 1000 random steps: back to back, and after an env step each time."""
    from sensorimotor.agents.sac import PRESETS, SAC, make_env

    config = PRESETS["default"]
    env = make_env(ENV, config)
    agent = SAC(config, env.single_observation_space, env.single_action_space)
    replay = agent.make_replay(env)
    obs = env.reset(seed=0)
    replay.start(obs)
    for step in range(1000):
        action = agent.explore(obs, step)
        next_obs, reward, terminated, truncated, info = env.step(action)
        replay.add(action, reward, terminated, truncated, next_obs, info["final_obs"])
        obs = next_obs

    def per_call_ms(fn, n=300):
        for _ in range(20):
            fn()
        started = time.perf_counter()
        for _ in range(n):
            fn()
        return (time.perf_counter() - started) / n * 1e3

    def after_env_step():
        env.step(action)
        agent.update(replay, 5000)

    for n in threads:
        torch.set_num_threads(n)
        alone = per_call_ms(lambda: agent.update(replay, 5000))
        print(f"{n} thread(s): update {alone:.2f} ms back to back, {per_call_ms(after_env_step):.2f} ms with an "
              f"env step before each ({per_call_ms(lambda: env.step(action)):.2f} ms of it the env step)")
    env.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=3000)
    parser.add_argument("--sb3-steps", type=int, default=1500)
    parser.add_argument("--warmup", type=int, default=500, help="steps before timing (a multiple of 100)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeats", type=int, default=3, help="alternating runs; medians are printed")
    parser.add_argument("--profile", action="store_true", help="only time our update (see the docstring)")
    args = parser.parse_args()
    if args.profile:
        profile([torch.get_num_threads(), 1])
        return
    a_runs, b_runs = alternate(args.repeats, lambda i: sb3(args.sb3_steps, args.warmup, args.seed + i),
                               lambda i: ours(args.steps, args.warmup, args.seed + i))
    a = medians(a_runs)
    print(machine_line())
    print(f"ours: {a['steps_per_second']:.0f} steps/s (first {args.warmup} steps incl. compile {a['warmup_seconds']:.1f} s)")
    print_ratio(a_runs, b_runs, "sb3")


if __name__ == "__main__":
    main()
