"""Driving world throughput and PPO-from-pixels training speed against Stable-Baselines3, one process run.

- ``drive_env``: env steps/s of ``RacecarDrive-v0`` (200x66 front camera, 20 Hz, 12 physics steps per
  action) on the ``pybullet`` backend with 1 and 2 worker processes (``--workers``), the expert driving
  (long episodes, as in training once a policy drives), after a warm-up.
- ``drive_frame``: milliseconds per 200x66 front-camera frame with the car's meshes drawn (as before
  they were hidden) and hidden (as the world renders now; the frames are the same), alternating.
- ``drive_ppo``: training steps/s of our PPO (``--preset drive``: Nature CNN, 4 envs, n_steps 256,
  minibatch 128, 4 epochs) against SB3's PPO ``CnnPolicy`` with the same settings on the same env (4
  envs in SB3's ``SubprocVecEnv``, PyBullet holds the GIL), alternating, medians printed.
- ``drive_ppo_update``: the same runs' learner alone: seconds per update (4 epochs over one 1,024-step
  rollout of 200x66 frames), ours ``agent.update`` against SB3's ``PPO.train``. The env's cost is the
  same on both sides, so this is where the framework's speed shows when the env is not the bound.

    .venv/bin/python benchmarks/drive_env.py --seconds 20 --steps 4096 --repeats 3
"""

from __future__ import annotations

import argparse
import functools
import os
import statistics
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import alternate, machine_line, medians, print_ratio, time_ours  # noqa: E402

ENV = "RacecarDrive-v0"


def env_steps_per_second(workers: int, num_envs: int, seconds: float, warmup: float = 3.0) -> float:
    from sensorimotor.envs import make_vec

    env = make_vec(ENV, num_envs, backend="pybullet", num_workers=workers)
    try:
        env.reset(seed=0)
        actions = torch.zeros(num_envs, 1)
        count, started, measured = 0, time.perf_counter(), None
        while True:
            info = env.step(actions)[4]
            actions = info["expert_action"].reshape(num_envs, 1)
            now = time.perf_counter()
            if measured is None and now - started >= warmup:
                measured, count = now, 0
            elif measured is not None:
                count += num_envs
                if now - measured >= seconds:
                    return count / (now - measured)
    finally:
        env.close()


def frame_milliseconds(repeats: int, frames: int = 200) -> tuple[list[float], list[float]]:
    """``(drawn, hidden)``: ms per front-camera frame, ``repeats`` alternating runs of ``frames`` each."""
    from sensorimotor.envs import make

    env = make(ENV)
    try:
        env.reset(seed=0)
        task = env.unwrapped
        for _ in range(20):
            env.step(task.expert_action())
        (x, y, _), yaw = task.scene.car_pose()
        drawn, hidden = [], []
        for _ in range(repeats):
            for visible, out in ((True, drawn), (False, hidden)):
                task.scene.show_car(visible)
                started = time.perf_counter()
                for _ in range(frames):
                    task.scene.render(task._camera, (x, y), yaw, task._light)
                out.append(1000 * (time.perf_counter() - started) / frames)
        return drawn, hidden
    finally:
        env.close()


def ours(steps: int, seed: int, bf16_trunk: bool = False) -> dict:
    from dataclasses import replace

    from sensorimotor.agents.ppo.presets import PPO_DRIVE

    return time_ours(ENV, replace(PPO_DRIVE, bf16_trunk=bf16_trunk), steps, seed, backend="pybullet")


def _make_env():
    import sensorimotor.sim.pybullet  # noqa: F401 - registers the id in the worker
    from sensorimotor.envs import make

    return make(ENV)


def sb3(steps: int, seed: int) -> dict:
    from stable_baselines3 import PPO as SB3PPO
    from stable_baselines3.common.env_util import make_vec_env
    from stable_baselines3.common.vec_env import SubprocVecEnv

    class TimedPPO(SB3PPO):
        """SB3's PPO with the wall time of each ``train()`` (its update phase) recorded."""

        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.update_seconds: list[float] = []

        def train(self) -> None:
            started = time.perf_counter()
            super().train()
            self.update_seconds.append(time.perf_counter() - started)

    venv = make_vec_env(functools.partial(_make_env), n_envs=4, seed=seed, vec_env_cls=SubprocVecEnv)
    model = TimedPPO("CnnPolicy", venv, n_steps=256, batch_size=128, n_epochs=4, learning_rate=2.5e-4, seed=seed,
                     device="cpu", verbose=0)
    model.learn(1024)  # warm-up: first rollout and update
    model.update_seconds = []
    t0 = time.perf_counter()
    model.learn(steps, reset_num_timesteps=False)
    elapsed = time.perf_counter() - t0
    venv.close()
    return {"steps_per_second": steps / elapsed, "update_seconds": statistics.median(model.update_seconds)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=20.0, help="measured seconds per env-throughput run")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--steps", type=int, default=4096, help="PPO training steps per run (each side)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--skip-ppo", action="store_true")
    parser.add_argument("--skip-env", action="store_true", help="only the PPO comparison")
    parser.add_argument("--bf16-trunk", action="store_true", help="ours with --ppo.bf16-trunk (SB3 float32)")
    args = parser.parse_args()
    print(machine_line())
    if not args.skip_env:
        drawn, hidden = frame_milliseconds(args.repeats)
        print(f"drive_frame: car drawn {statistics.median(drawn):.2f} ms, hidden {statistics.median(hidden):.2f} ms "
              f"(medians of {[round(d, 2) for d in drawn]} and {[round(h, 2) for h in hidden]})")
    for workers in [] if args.skip_env else args.workers:
        rates = [env_steps_per_second(workers, 2 * workers, args.seconds) for _ in range(args.repeats)]
        print(f"drive_env workers={workers}: {statistics.median(rates):.0f} env-steps/s "
              f"(median of {[round(r) for r in rates]})")
    if args.skip_ppo:
        return
    a_runs, b_runs = alternate(args.repeats, lambda i: sb3(args.steps, i),
                               lambda i: ours(args.steps, i, args.bf16_trunk))
    print(f"drive_ppo ours{' (bf16 trunk)' if args.bf16_trunk else ''}: {medians(a_runs)['steps_per_second']:.0f} steps/s")
    print_ratio(a_runs, b_runs, "sb3")
    a_update, b_update = medians(a_runs)["update_seconds"], medians(b_runs)["update_seconds"]
    print(f"drive_ppo_update: ours {a_update:.2f} s per update, sb3 {b_update:.2f} s, ratio {b_update / a_update:.1f} "
          f"(medians; ours {[round(r['update_seconds'], 2) for r in a_runs]}, "
          f"sb3 {[round(r['update_seconds'], 2) for r in b_runs]})")


if __name__ == "__main__":
    main()
