"""Training throughput: our PPO against Stable-Baselines3 PPO on HalfCheetah-v5, one process.

Same settings on both sides: 8 envs, n_steps 512, minibatch 64, 10 epochs, [64, 64] tanh MLPs, no
normalization. Prints env steps/s for each, the ratio, and where our time goes (physics, inference,
update). Our compile time is reported apart from steady-state throughput.

    .venv/bin/python benchmarks/ppo_mujoco.py --steps 40960 --sb3-steps 16384
"""

from __future__ import annotations

import argparse
import sys
import time

import torch

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from common import alternate, machine_line, medians, print_ratio, time_ours  # noqa: E402


def ours(steps: int, seed: int) -> dict:
    from sensorimotor.agents.ppo.presets import PPO_BENCH

    return time_ours("HalfCheetah-v5", PPO_BENCH, steps, seed, env_probe=_time_env_steps)


def _time_env_steps(env) -> float:
    """Seconds per env step of the wrapped env alone (random actions), measured before training."""
    n = env.num_envs
    actions = torch.zeros(n, env.single_action_space.shape[0])
    env.reset(seed=123)
    k = 200
    t0 = time.perf_counter()
    for _ in range(k):
        env.step(actions.uniform_(-1, 1))
    per_step = (time.perf_counter() - t0) / (k * n)
    env.reset(seed=0)
    return per_step


def sb3(steps: int, seed: int) -> dict:
    import gymnasium as gym
    from stable_baselines3 import PPO as SB3PPO
    from stable_baselines3.common.env_util import make_vec_env

    venv = make_vec_env("HalfCheetah-v5", n_envs=8, seed=seed)
    model = SB3PPO("MlpPolicy", venv, n_steps=512, batch_size=64, n_epochs=10, seed=seed, device="cpu",
                   policy_kwargs={"net_arch": [64, 64]}, verbose=0)
    model.learn(4096)  # warm-up: first rollout and update
    t0 = time.perf_counter()
    model.learn(steps, reset_num_timesteps=False)
    elapsed = time.perf_counter() - t0
    venv.close()
    del gym
    return {"steps_per_second": steps / elapsed}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=40960)
    parser.add_argument("--sb3-steps", type=int, default=16384)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeats", type=int, default=3, help="alternating runs; medians are printed")
    args = parser.parse_args()
    # Ours sets one intra-op thread (MuJoCo has the cores during the rollout).
    a_runs, b_runs = alternate(args.repeats, lambda i: sb3(args.sb3_steps, args.seed + i),
                               lambda i: ours(args.steps, args.seed + i))
    a = medians(a_runs)
    print(machine_line())
    print(f"ours: {a['steps_per_second']:.0f} steps/s (compile + first update {a['compile_seconds']:.1f} s)")
    print(f"  time: update {a['share_update']:.0%}, physics {a['share_env']:.0%}, "
          f"inference + storage + wrappers {a['share_acting_and_storage']:.0%}")
    print_ratio(a_runs, b_runs, "sb3")


if __name__ == "__main__":
    main()
