"""DQN configuration: one typed, frozen dataclass; the CLI flags are generated from it."""

from __future__ import annotations

from dataclasses import dataclass

from sensorimotor.errors import check
from sensorimotor.utils.device import check_device, check_native_bf16


@dataclass(frozen=True)
class DQNConfig:
    """Deep Q-learning (Mnih et al. 2015) with the usual extensions as flags."""

    total_steps: int = 10_000_000
    """Environment steps (summed over all envs) to train for."""
    num_envs: int = 8
    buffer_size: int = 1_000_000
    """Replay capacity in transitions (one 84x84 frame each: ~7 kB)."""
    batch_size: int = 32
    learning_starts: int = 80_000
    """Environment steps of random-ish play before the first update."""
    train_every: int = 4
    """Environment steps per gradient update (the replay ratio is batch_size / train_every)."""
    gamma: float = 0.99
    n_step: int = 1
    """n-step returns (cut at episode ends)."""
    learning_rate: float = 1e-4
    adam_eps: float = 1.5e-4
    max_grad_norm: float = 10.0
    target_update_every: int = 8_000
    """Environment steps between target-network updates."""
    tau: float = 1.0
    """Target update: 1.0 copies (hard), below 1 blends ``tau * online + (1 - tau) * target`` (Polyak)."""
    epsilon_start: float = 1.0
    epsilon_end: float = 0.01
    epsilon_fraction: float = 0.1
    """Share of ``total_steps`` over which epsilon decays linearly."""
    double: bool = True
    """Double DQN targets (van Hasselt et al. 2016): the online net picks, the target net values."""
    dueling: bool = False
    prioritized: bool = False
    """Prioritized replay (Schaul et al. 2016, proportional, sum tree)."""
    priority_alpha: float = 0.6
    """How strongly priorities skew sampling (0: uniform)."""
    priority_beta_start: float = 0.4
    """Importance-weight exponent at the start, annealed linearly to 1 at ``total_steps``."""
    priority_eps: float = 1e-6
    """Added to |TD error| so every stored transition keeps a chance to be replayed."""
    reward_clip: bool = True
    """Clip rewards to [-1, 1] for learning (statistics stay raw)."""
    hidden: int = 512
    life_loss_terminal: bool = True
    """Atari: a lost life ends the bootstrapped return during training (never at evaluation)."""
    eval_epsilon: float = 0.001
    """Epsilon of evaluation episodes (Machado et al. 2018; 0.05 as in Mnih et al. 2015)."""
    device: str = "cpu"
    """Where the networks learn (``cpu``, ``cuda``)."""
    bf16_trunk: bool = False
    """Mixed precision in the update: the encoder (convolutions and their linear layer) runs forward and
    backward in bfloat16 under autocast; the Q head, targets, loss, weights and Adam stay float32, and
    acting stays float32. ~1.5-2x faster Nature-CNN updates on CPUs with native bfloat16 (AVX512-BF16,
    AMX) and on Ampere or newer GPUs; refused elsewhere, where it would be slower."""
    replay_device: str | None = None
    """Where the replay lives; default the learner's device, so batches are drawn where they are used
    (on a GPU: 0.7 GB of its memory per 100k Atari transitions, checked before allocating)."""

    def validate(self) -> None:
        check(self.total_steps > 0, f"total_steps must be positive, got {self.total_steps}.")
        check(self.num_envs > 0, f"num_envs must be positive, got {self.num_envs}.")
        check(self.batch_size > 0, f"batch_size must be positive, got {self.batch_size}.")
        check(self.train_every > 0, f"train_every must be positive, got {self.train_every}.")
        check(1 <= self.n_step <= 20, f"n_step must be between 1 and 20, got {self.n_step}.")
        check(0.0 < self.gamma <= 1.0, f"gamma must be in (0, 1], got {self.gamma}.")
        check(0.0 < self.tau <= 1.0, f"tau must be in (0, 1], got {self.tau}.")
        check(0.0 <= self.eval_epsilon <= 1.0, f"eval_epsilon must be in [0, 1], got {self.eval_epsilon}.")
        check(0.0 <= self.epsilon_end <= self.epsilon_start <= 1.0,
              f"need 0 <= epsilon_end <= epsilon_start <= 1, got {self.epsilon_end}, {self.epsilon_start}.")
        check(self.buffer_size >= self.batch_size * 4, f"buffer_size {self.buffer_size} is too small for batch_size {self.batch_size}.")
        check(self.learning_starts >= self.batch_size, f"learning_starts must be at least batch_size ({self.batch_size}).")
        check(0.0 <= self.priority_alpha <= 1.0, f"priority_alpha must be in [0, 1], got {self.priority_alpha}.")
        check(0.0 <= self.priority_beta_start <= 1.0,
              f"priority_beta_start must be in [0, 1], got {self.priority_beta_start}.")
        check(self.priority_eps > 0.0, f"priority_eps must be positive, got {self.priority_eps}.")
        check(self.target_update_every > 0, f"target_update_every must be positive, got {self.target_update_every}.")
        check_device(self.device, "--dqn.device")
        if self.replay_device is not None:
            check_device(self.replay_device, "--dqn.replay-device")
        if self.bf16_trunk:
            check_native_bf16(self.device, "--dqn.bf16-trunk")

    def epsilon(self, step: int) -> float:
        """Linear decay from ``epsilon_start`` to ``epsilon_end`` over ``epsilon_fraction * total_steps``."""
        span = max(1.0, self.epsilon_fraction * self.total_steps)
        return self.epsilon_end + (self.epsilon_start - self.epsilon_end) * max(0.0, 1.0 - step / span)

    def priority_beta(self, step: int) -> float:
        """Linear from ``priority_beta_start`` to 1 over ``total_steps``."""
        return min(1.0, self.priority_beta_start + (1.0 - self.priority_beta_start) * step / self.total_steps)


DQN_ATARI = DQNConfig()
"""Nature-DQN-style Atari settings with double DQN, Adam, 8 envs."""

DQN_BENCH = DQNConfig(num_envs=1, buffer_size=100_000, learning_starts=10_000, batch_size=32, train_every=4,
                      target_update_every=1_000, learning_rate=1e-4, adam_eps=1e-8, double=False)
"""The settings of benchmarks/dqn_atari.py (SB3's DQN defaults on Atari, learning starts 10k)."""

DQN_MINATAR = DQNConfig(total_steps=1_000_000, num_envs=4, buffer_size=100_000, learning_starts=5_000, batch_size=128,
                        train_every=4, n_step=3, target_update_every=1_000, learning_rate=2.5e-4, adam_eps=1e-8,
                        epsilon_end=0.1, epsilon_fraction=0.1, hidden=128, life_loss_terminal=False, max_grad_norm=10.0)
"""MinAtar (Young & Tian 2019): the paper's network, replay 100k, target every 1000 steps and epsilon
1 -> 0.1 over the first 100k steps, with Adam, four envs and two departures that buy wall-clock
time on a CPU: batches of 128 every 4 steps (the paper: 32 every step; the same 32 replayed samples
per env step, 2.4x faster here) and 3-step returns."""

DQN_ATARI_GPU = DQNConfig(num_envs=16, batch_size=256, train_every=32, learning_rate=2.5e-4, device="cuda")
"""``DQN_ATARI`` with a CUDA learner fed by 16 ALE envs: the same replay ratio (8 replayed samples per
env step) in batches of 256 every 32 env steps, since on a GPU the cost of an update is its launch and
Python overhead far more than its batch size. The learning rate is raised for the 8x batch (square-root
scaling from 1e-4 gives 2.8e-4). A starting point, not tuned: no GPU was lent to the session that wrote
it (``benchmarks/dqn_atari.py --device cuda --num-envs 16 --batch-multiple 8`` times the same shape)."""

DQN_CLASSIC = DQNConfig(total_steps=50_000, num_envs=1, buffer_size=100_000, learning_starts=1_000, batch_size=64,
                        train_every=2, target_update_every=256, learning_rate=2.3e-3, adam_eps=1e-8, epsilon_fraction=0.16,
                        epsilon_end=0.04, hidden=256, reward_clip=False, life_loss_terminal=False)
"""Flat-observation tasks (CartPole, Acrobot...): rl-baselines3-zoo dqn.yml's CartPole-v1 row (50k steps,
[256, 256] MLP, lr 2.3e-3, batch 64, epsilon to 0.04 over 16%), its 128 updates per 256 steps spread
out as one every 2 steps, with double DQN. The zoo's "target every 10 steps" ticks during collection,
so its 128-update bursts all see one target: here the target moves every 256 steps (every 10 diverged)."""

DQN_SMOKE = DQNConfig(total_steps=600, num_envs=2, buffer_size=2_000, learning_starts=200, batch_size=32,
                      target_update_every=100, hidden=32, life_loss_terminal=False)
"""A few seconds on any small task: for smoke tests, not for learning."""

PRESETS = {"atari": DQN_ATARI, "atari-gpu": DQN_ATARI_GPU, "bench": DQN_BENCH, "minatar": DQN_MINATAR,
           "classic": DQN_CLASSIC, "smoke": DQN_SMOKE}


def default_preset(env_id: str, backend: str | None = None) -> str:
    """``minatar`` for MinAtar games, ``classic`` for flat-observation tasks, ``atari`` for the rest
    (Atari and other pixel games)."""
    from sensorimotor.envs.registry import spec

    tags = spec(env_id).tags
    if "minatar" in tags:
        return "minatar"
    return "atari" if "atari" in tags or "pixels" in tags else "classic"
