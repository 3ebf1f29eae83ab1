"""Training throughput: our PPO against Stable-Baselines3 PPO on HalfCheetah-v5, one process.

Same settings on both sides: 8 envs, n_steps 512, minibatch 64, 10 epochs, [64, 64] tanh MLPs, no
normalization. Prints env steps/s for each, the ratio, and where our time goes (physics, inference,
update). Our compile time is reported apart from steady-state throughput.

    .venv/bin/python benchmarks/ppo_mujoco.py --steps 40960 --sb3-steps 16384
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import time

import torch


def ours(steps: int, seed: int) -> dict:
    from sensorimotor.agents.env_builder import build_env
    from sensorimotor.agents.on_policy_runner import OnPolicyRunner
    from sensorimotor.agents.ppo import PPO
    from sensorimotor.agents.ppo.presets import PPO_BENCH

    torch.set_num_threads(1)
    torch.manual_seed(seed)
    config = PPO_BENCH
    env = build_env("HalfCheetah-v5", config)
    agent = PPO(config, env.single_observation_space, env.single_action_space)

    class Quiet:
        def log(self, step, metrics):
            pass

    runner = OnPolicyRunner(agent, env, Quiet(), save=lambda s: None, checkpoint_every=10**12,
                            seed=seed, progress_bar=False)
    obs = env.reset(seed=seed)
    # Warm-up rollout + update: pays the one-off torch.compile cost, reported separately.
    started = time.perf_counter()
    obs = runner.collect(obs)
    agent.update(runner.storage)
    compile_seconds = time.perf_counter() - started

    rollout = config.rollout_size
    t_collect = t_update = t_physics = 0.0
    physics = _time_env_steps(env)
    done = 0
    while done < steps:
        t0 = time.perf_counter()
        obs = runner.collect(obs)
        t1 = time.perf_counter()
        agent.update(runner.storage)
        t2 = time.perf_counter()
        t_collect += t1 - t0
        t_update += t2 - t1
        done += rollout
    t_physics = physics() * done
    total = t_collect + t_update
    env.close()
    return {"steps_per_second": done / total, "compile_seconds": compile_seconds,
            "share_update": t_update / total, "share_physics": min(t_physics, t_collect) / total,
            "share_inference_and_storage": max(t_collect - t_physics, 0.0) / total}


def _time_env_steps(env):
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
    return lambda: per_step


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
    # SB3 runs first in each pair with torch's default threads, as its users run it; ours then sets
    # one intra-op thread (MuJoCo has the cores during the rollout).
    default_threads = torch.get_num_threads()
    a_runs, b_runs = [], []
    for i in range(args.repeats):
        torch.set_num_threads(default_threads)
        b_runs.append(sb3(args.sb3_steps, args.seed + i))
        a_runs.append(ours(args.steps, args.seed + i))
    a = {k: statistics.median(r[k] for r in a_runs) for k in a_runs[0]}
    b = {k: statistics.median(r[k] for r in b_runs) for k in b_runs[0]}
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    print(f"machine: {os.cpu_count()} cores, {platform.processor() or platform.machine()}, no GPU; commit {commit}")
    print(f"ours: {a['steps_per_second']:.0f} steps/s (compile + first update {a['compile_seconds']:.1f} s)")
    print(f"  time: update {a['share_update']:.0%}, physics {a['share_physics']:.0%}, "
          f"inference + storage + wrappers {a['share_inference_and_storage']:.0%}")
    print(f"sb3:  {b['steps_per_second']:.0f} steps/s")
    print(f"ratio: {a['steps_per_second'] / b['steps_per_second']:.1f}  (medians of {args.repeats}; "
          f"ours {[round(r['steps_per_second']) for r in a_runs]}, sb3 {[round(r['steps_per_second']) for r in b_runs]})")


if __name__ == "__main__":
    main()
