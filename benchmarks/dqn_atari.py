"""DQN on ALE/Pong-v5: ours against Stable-Baselines3's DQN in one process run, same settings (Nature
CNN, buffer 100k, batch 32, one update every 4 steps, target update every 1000 steps, learning starts
10k, one env). Prints training steps/s after learning starts for both and the ratio, and the raw env
throughput of our ``ale`` backend against gymnasium's vector env at 8 envs.

    .venv/bin/python benchmarks/dqn_atari.py [--steps 3000] [--repeats 1]

On a GPU machine (``dqn_atari_gpu``): SB3 as above on the GPU, ours with more envs feeding the learner at
the same replay ratio (``--batch-multiple m``: batches of 32 m every 4 m env steps):

    .venv/bin/python benchmarks/dqn_atari.py --device cuda --num-envs 16 --batch-multiple 8 --steps 30000

``--profile`` times only ours and prints where each env step goes after learning starts (update, acting,
ALE, replay), each part wrapped in a timer. ``--bf16-trunk`` also times ours with mixed precision in the update (``DQNConfig.bf16_trunk``: the
encoder in bfloat16, head, loss and Adam in float32) in each repeat, beside the float32 run; it needs
a device with native bfloat16.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# Before torch, as the CLI does: the package sets OMP_WAIT_POLICY=PASSIVE (see sensorimotor/__init__.py).
# Both agents run in this process under the same setting.
import sensorimotor  # noqa: E402, F401
import numpy as np  # noqa: E402
import torch  # noqa: E402

from benchmarks.common import machine_line  # noqa: E402

LEARNING_STARTS = 10_000


class Clock:
    """A logger that records (step, time); the rate after learning starts comes from it."""

    def __init__(self):
        self.marks = []

    def log(self, step, metrics):
        self.marks.append((step, time.perf_counter()))

    def close(self):
        pass


def ours(steps: int, seed: int, device: str = "cpu", num_envs: int = 1, batch_multiple: int = 1,
         bf16_trunk: bool = False) -> float:
    from dataclasses import replace

    from sensorimotor.agents.dqn import DQN, DQN_BENCH
    from sensorimotor.agents.off_policy_runner import OffPolicyRunner
    from sensorimotor.envs import make_vec

    torch.manual_seed(seed)
    config = replace(DQN_BENCH, total_steps=LEARNING_STARTS + steps, num_envs=num_envs, device=device,
                     batch_size=DQN_BENCH.batch_size * batch_multiple, train_every=DQN_BENCH.train_every * batch_multiple,
                     bf16_trunk=bf16_trunk)
    config.validate()
    env = make_vec("ALE/Pong-v5", num_envs, backend="ale", device=device, life_loss_terminal=False)
    agent = DQN(config, env.single_observation_space, env.single_action_space)
    clock = Clock()
    runner = OffPolicyRunner(agent, env, clock, save=lambda s: None, checkpoint_every=10**12, seed=seed,
                             progress_bar=False, log_every=500)
    runner.learn()
    env.close()
    return _rate_after_start(clock.marks)


def sb3(steps: int, seed: int, device: str = "cpu") -> float:
    from stable_baselines3 import DQN
    from stable_baselines3.common.callbacks import BaseCallback
    from stable_baselines3.common.env_util import make_atari_env
    from stable_baselines3.common.vec_env import VecFrameStack

    import ale_py
    import gymnasium as gym

    gym.register_envs(ale_py)
    env = VecFrameStack(make_atari_env("ALE/Pong-v5", n_envs=1, seed=seed, env_kwargs={"frameskip": 1}), 4)

    class Marks(BaseCallback):
        def __init__(self):
            super().__init__()
            self.marks = []

        def _on_step(self):
            if self.num_timesteps % 500 == 0:
                self.marks.append((self.num_timesteps, time.perf_counter()))
            return True

    model = DQN("CnnPolicy", env, buffer_size=100_000, learning_starts=LEARNING_STARTS, batch_size=32,
                train_freq=4, gradient_steps=1, target_update_interval=1000, learning_rate=1e-4, seed=seed,
                optimize_memory_usage=False, verbose=0, device=device)
    callback = Marks()
    model.learn(LEARNING_STARTS + steps, callback=callback)
    env.close()
    return _rate_after_start(callback.marks)


def profile_ours(steps: int, bf16_trunk: bool) -> None:
    """Ours with a timer around each part; prints ms per env step after the first update."""
    from collections import defaultdict

    from sensorimotor.agents.buffers.replay import FrameReplay
    from sensorimotor.agents.dqn import DQN
    from sensorimotor.envs.vector.ale import AleVecEnv

    spent, timing, began = defaultdict(float), [False], [0.0]
    parts = [(DQN, "train_batch", "update"), (DQN, "act", "acting"), (DQN, "update_target", "target copy"),
             (AleVecEnv, "step", "ALE step"), (FrameReplay, "sample", "replay sample"), (FrameReplay, "add", "replay add")]
    originals = [(cls, name, getattr(cls, name)) for cls, name, _ in parts]

    def timed(method, label):
        def wrapper(*args, **kwargs):
            start = time.perf_counter()
            if not timing[0] and label == "update":  # from the first update on
                timing[0], began[0] = True, start
            result = method(*args, **kwargs)
            if timing[0]:
                spent[label] += time.perf_counter() - start
            return result
        return wrapper

    for cls, name, label in parts:
        setattr(cls, name, timed(getattr(cls, name), label))
    try:
        ours(steps, 0, bf16_trunk=bf16_trunk)
        total = (time.perf_counter() - began[0]) / steps * 1e3
    finally:
        for cls, name, method in originals:
            setattr(cls, name, method)
    print(f"ours{' bf16 trunk' if bf16_trunk else ''}: {1e3 / total:.1f} steps/s = {total:.2f} ms per env step")
    for label, seconds in sorted(spent.items(), key=lambda kv: -kv[1]):
        print(f"  {label:14s} {seconds / steps * 1e3:6.2f} ms/step")
    print(f"  {'rest':14s} {total - sum(spent.values()) / steps * 1e3:6.2f} ms/step (runner loop, logging)")


def _rate_after_start(marks):
    after = [(s, t) for s, t in marks if s >= LEARNING_STARTS + 500]
    (s0, t0), (s1, t1) = after[0], after[-1]
    return (s1 - s0) / (t1 - t0)


def env_throughput(num_envs: int = 8, steps: int = 2000) -> tuple[float, float]:
    """Env steps/s of our ale backend and of gymnasium's SyncVectorEnv over the wrapper path."""
    import gymnasium as gym

    from sensorimotor.envs import make_vec
    from sensorimotor.envs.atari_ids import make_atari

    ale = make_vec("ALE/Pong-v5", num_envs, backend="ale")
    ale.reset(seed=0)
    actions = torch.randint(0, 6, (steps, num_envs))
    t = time.perf_counter()
    for a in actions:
        ale.step(a)
    ours_rate = steps * num_envs / (time.perf_counter() - t)
    ale.close()
    vec = gym.vector.SyncVectorEnv([lambda: make_atari("Pong") for _ in range(num_envs)])
    vec.reset(seed=0)
    t = time.perf_counter()
    for a in actions[: steps // 4]:
        vec.step(a.numpy())
    gym_rate = steps // 4 * num_envs / (time.perf_counter() - t)
    vec.close()
    return ours_rate, gym_rate


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=3000, help="training steps timed after learning starts")
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--device", default="cpu", help="cpu or cuda: where both learners run")
    parser.add_argument("--num-envs", type=int, default=1, help="our ALE envs (SB3 keeps one)")
    parser.add_argument("--batch-multiple", type=int, default=1,
                        help="ours: batches of 32 m every 4 m env steps (the same replay ratio)")
    parser.add_argument("--bf16-trunk", action="store_true", help="also time ours with a bfloat16 encoder")
    parser.add_argument("--profile", action="store_true", help="only ours, with the time of each part")
    args = parser.parse_args()
    if args.profile:
        for bf16_trunk in (False, True) if args.bf16_trunk else (False,):
            profile_ours(args.steps, bf16_trunk)
        return
    print(machine_line(), f"OMP_WAIT_POLICY={os.environ.get('OMP_WAIT_POLICY')}", f"device={args.device}",
          f"ours: {args.num_envs} envs, batch {32 * args.batch_multiple} every {4 * args.batch_multiple} steps")
    a, b, c = [], [], []
    for i in range(args.repeats):
        b.append(sb3(args.steps, i, args.device))
        a.append(ours(args.steps, i, args.device, args.num_envs, args.batch_multiple))
        line = f"repeat {i}: SB3 {b[-1]:.1f} steps/s, ours {a[-1]:.1f} steps/s"
        if args.bf16_trunk:
            c.append(ours(args.steps, i, args.device, args.num_envs, args.batch_multiple, bf16_trunk=True))
            line += f", ours bf16 trunk {c[-1]:.1f} steps/s"
        print(line, flush=True)
    name = "dqn_atari_gpu" if args.device.startswith("cuda") else "dqn_atari_cpu"
    print(f"{name}: ours {statistics.median(a):.1f} steps/s, SB3 {statistics.median(b):.1f} steps/s, "
          f"ratio {statistics.median(a) / statistics.median(b):.2f}")
    if c:
        print(f"{name}_bf16_trunk: ours {statistics.median(c):.1f} steps/s, SB3 {statistics.median(b):.1f} steps/s "
              f"(float32), ratio {statistics.median(c) / statistics.median(b):.2f}")
    ours_rate, gym_rate = env_throughput()
    print(f"ale_env_throughput_8: ale backend {ours_rate:.0f} steps/s, gymnasium SyncVectorEnv {gym_rate:.0f} "
          f"steps/s, ratio {ours_rate / gym_rate:.1f}")


if __name__ == "__main__":
    np.set_printoptions(precision=3)
    main()
