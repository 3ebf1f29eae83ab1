"""MJX throughput: raw physics env-steps/s against end-to-end PPO training env-steps/s, one process.

For each task and env count: build the ``mjx`` backend (compile time printed apart), time bare env
steps with random actions made on the device, then time PPO (the ``mjx`` preset with that many envs)
collecting and updating. ``kept`` = training / raw is the figure recorded as
``mjx_kept_<task>_<N>`` (target >= 0.6 on a GPU). On a machine without CUDA it runs on JAX's CPU
device: use small env counts there, the figures only show the path works.

    .venv/bin/python benchmarks/mjx_throughput.py                                    # GPU: 4096, 32768
    .venv/bin/python benchmarks/mjx_throughput.py --device cpu --num-envs 64 --tasks HalfCheetah-v5 \
        --raw-steps 100 --rollouts 3
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time

import torch

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from common import machine_line, time_ours  # noqa: E402


def raw(env_id: str, num_envs: int, device: str, steps: int) -> dict:
    from sensorimotor.envs import make_vec

    started = time.perf_counter()
    env = make_vec(env_id, num_envs, backend="mjx", device=device)
    compile_seconds = time.perf_counter() - started
    low = torch.as_tensor(env.single_action_space.low, device=device)
    high = torch.as_tensor(env.single_action_space.high, device=device)
    actions = torch.empty(num_envs, *low.shape, device=device)
    env.reset(seed=0)
    for _ in range(3):  # first calls: the reset pool's draw, allocator warm-up
        env.step(low + (high - low) * actions.uniform_())
    _sync(env.step(actions)[0])
    t0 = time.perf_counter()
    for _ in range(steps):
        obs = env.step(low + (high - low) * actions.uniform_())[0]
    _sync(obs)
    seconds = time.perf_counter() - t0
    env.close()
    return {"steps_per_second": steps * num_envs / seconds, "compile_seconds": compile_seconds}


def training(env_id: str, num_envs: int, device: str, rollouts: int) -> dict:
    from sensorimotor.agents.ppo.presets import PPO_MJX

    config = dataclasses.replace(PPO_MJX, num_envs=num_envs, device=device,
                                 batch_size=min(PPO_MJX.batch_size, num_envs * PPO_MJX.n_steps))
    return time_ours(env_id, config, rollouts * config.rollout_size, seed=0, backend="mjx")


def _sync(tensor: torch.Tensor) -> None:
    tensor.sum().item()  # waits for JAX's and torch's queued work on the device


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tasks", nargs="+", default=["HalfCheetah-v5", "Ant-v5", "Humanoid-v5"])
    parser.add_argument("--num-envs", nargs="+", type=int, default=[4096, 32768])
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--raw-steps", type=int, default=200, help="env steps (of all envs) timed for raw physics")
    parser.add_argument("--rollouts", type=int, default=5, help="PPO rollouts + updates timed after a warm-up one")
    args = parser.parse_args()
    print(machine_line(), f"device {args.device}")
    for env_id in args.tasks:
        for n in args.num_envs:
            physics = raw(env_id, n, args.device, args.raw_steps)
            ppo = training(env_id, n, args.device, args.rollouts)
            kept = ppo["steps_per_second"] / physics["steps_per_second"]
            name = env_id.split("-")[0].lower()
            print(f"{env_id} x{n}: compile {physics['compile_seconds']:.1f} s (env) "
                  f"+ {ppo['compile_seconds']:.1f} s (first rollout + update); raw {physics['steps_per_second']:.0f} "
                  f"env-steps/s; PPO {ppo['steps_per_second']:.0f} env-steps/s (update {ppo['share_update']:.0%}); "
                  f"mjx_kept_{name}_{n} = {kept:.2f}")


if __name__ == "__main__":
    main()
