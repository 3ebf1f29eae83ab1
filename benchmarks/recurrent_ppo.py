"""Training throughput: our recurrent PPO against sb3-contrib RecurrentPPO on velocity-masked CartPole.

Same settings on both sides, two sets of them:
- ``bench``: 8 envs, n_steps 128, minibatch 128, 10 epochs, an LSTM of 64 units for the actor and
  another for the critic, [64, 64] tanh heads, no normalization (sb3-contrib's defaults otherwise).
- ``zoo``: rl-baselines3-zoo's CartPoleNoVel-v1 row: 8 envs, n_steps 32, minibatch 256, 20 epochs,
  LSTM 64, [64] ReLU heads, observation and reward normalization.
Prints env steps/s for each, the ratio, and where our time goes.

    .venv/bin/python benchmarks/recurrent_ppo.py --settings bench --repeats 3
    .venv/bin/python benchmarks/recurrent_ppo.py --settings zoo --repeats 3

Ours runs 8x more steps than sb3-contrib by default (65536 against 8192): ~10 s each side on 2 cores.
"""

from __future__ import annotations

import argparse
import sys
import time

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from common import alternate, machine_line, medians, print_ratio, time_ours  # noqa: E402

ENV = "CartPoleNoVel-v1"


def contrib(settings: str, steps: int, seed: int) -> dict:
    from sb3_contrib import RecurrentPPO
    from stable_baselines3.common.vec_env import DummyVecEnv, VecNormalize
    from torch import nn

    from sensorimotor.envs import make

    venv = DummyVecEnv([lambda: make(ENV) for _ in range(8)])
    venv.seed(seed)
    if settings == "bench":
        kwargs = dict(n_steps=128, batch_size=128, n_epochs=10, policy_kwargs={"lstm_hidden_size": 64})
    else:
        venv = VecNormalize(venv, gamma=0.98)
        kwargs = dict(n_steps=32, batch_size=256, n_epochs=20, gamma=0.98, gae_lambda=0.8, learning_rate=1e-3,
                      ent_coef=0.0, policy_kwargs=dict(ortho_init=False, activation_fn=nn.ReLU, lstm_hidden_size=64,
                                                       enable_critic_lstm=True, net_arch=dict(pi=[64], vf=[64])))
    model = RecurrentPPO("MlpLstmPolicy", venv, seed=seed, device="cpu", verbose=0, **kwargs)
    model.learn(1024)  # warm-up: first rollouts and updates
    t0 = time.perf_counter()
    model.learn(steps, reset_num_timesteps=False)
    elapsed = time.perf_counter() - t0
    venv.close()
    return {"steps_per_second": steps / elapsed}


def main() -> None:
    from sensorimotor.agents.ppo.presets import PPO_LSTM_BENCH, PPO_LSTM_CLASSIC

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--settings", choices=("bench", "zoo"), default="bench")
    parser.add_argument("--steps", type=int, default=65536)
    parser.add_argument("--contrib-steps", type=int, default=8192)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeats", type=int, default=3, help="alternating runs; medians are printed")
    args = parser.parse_args()
    config = PPO_LSTM_BENCH if args.settings == "bench" else PPO_LSTM_CLASSIC
    a_runs, b_runs = alternate(args.repeats, lambda i: contrib(args.settings, args.contrib_steps, args.seed + i),
                               lambda i: time_ours(ENV, config, args.steps, args.seed + i))
    a = medians(a_runs)
    print(machine_line(), f"settings: {args.settings}")
    print(f"ours: {a['steps_per_second']:.0f} steps/s (first rollout + update {a['compile_seconds']:.1f} s)")
    print(f"  time: update {a['share_update']:.0%}, env + acting + storage {1 - a['share_update']:.0%}")
    print_ratio(a_runs, b_runs, "sb3-contrib")


if __name__ == "__main__":
    main()
