"""SAC configuration: one typed, frozen dataclass (the CLI flags are generated from it) and presets."""

from __future__ import annotations

from dataclasses import dataclass, replace

from sensorimotor.errors import check
from sensorimotor.utils.device import check_device


@dataclass(frozen=True)
class SACConfig:
    """Soft Actor-Critic (Haarnoja et al. 2018, with the learned temperature of the 2018 follow-up).
    Defaults are Stable-Baselines3's, so the same settings compare like for like."""

    total_steps: int = 1_000_000
    """Environment steps (summed over all envs) to train for."""
    num_envs: int = 1
    buffer_size: int = 1_000_000
    """Replay capacity in transitions (flat: ~150 B each for a MuJoCo task)."""
    learning_starts: int = 100
    """Environment steps of uniformly random actions before the first update."""
    batch_size: int = 256
    train_every: int = 1
    """Environment steps per gradient update (SB3: train_freq 1, gradient_steps 1)."""
    gamma: float = 0.99
    tau: float = 0.005
    """Polyak factor of the target critics, applied after every update."""
    learning_rate: float = 3e-4
    """Adam step size of the actor, the critics and the temperature."""
    hidden: tuple[int, ...] = (256, 256)
    """Hidden layers of the actor and of each critic (ReLU)."""
    init_alpha: float = 1.0
    """Initial entropy coefficient (SB3's ``auto`` starts at 1.0)."""
    learn_alpha: bool = True
    """Tune the entropy coefficient towards ``target_entropy``; off: keep ``init_alpha`` fixed."""
    target_entropy: float | None = None
    """Entropy the temperature aims at; default ``-action_dim`` (the paper's heuristic)."""
    compile: bool = True
    """Compile the whole update (critics, actor, temperature, three Adam steps, target blend) into one
    graph with a C++ wrapper: no Python between its ~200 kernels. A one-off compile of ~30-60 s."""
    device: str = "cpu"

    def validate(self) -> None:
        for name in ("total_steps", "num_envs", "buffer_size", "batch_size", "train_every", "learning_rate"):
            check(getattr(self, name) > 0, f"sac.{name} must be positive, got {getattr(self, name)}.")
        check(self.learning_starts >= 0, f"sac.learning_starts must be >= 0, got {self.learning_starts}.")
        check(0.0 < self.gamma <= 1.0, f"sac.gamma must be in (0, 1], got {self.gamma}.")
        check(0.0 < self.tau <= 1.0, f"sac.tau must be in (0, 1], got {self.tau}.")
        check(self.init_alpha > 0.0, f"sac.init_alpha must be positive, got {self.init_alpha}.")
        check(bool(self.hidden) and all(h > 0 for h in self.hidden), f"sac.hidden sizes must be positive, got {self.hidden}.")
        check(self.buffer_size >= self.num_envs, f"sac.buffer_size {self.buffer_size} is smaller than num_envs.")
        check_device(self.device, "--sac.device")


SAC_DEFAULT = SACConfig()
"""Stable-Baselines3's SAC defaults (and the benchmark's settings: benchmarks/sac_mujoco.py)."""

SAC_MUJOCO = replace(SAC_DEFAULT, learning_starts=10_000)
"""rl-baselines3-zoo sac.yml for the MuJoCo tasks: SB3's defaults with 10k random steps first."""

SAC_PENDULUM = replace(SAC_DEFAULT, total_steps=20_000, learning_rate=1e-3)
"""rl-baselines3-zoo sac.yml, Pendulum-v1 row: 20k steps at learning rate 1e-3."""

SAC_GRASP = replace(SAC_DEFAULT, total_steps=100_000, num_envs=8, buffer_size=100_000, learning_starts=1000,
                    batch_size=64, train_every=4, compile=False)
"""SAC from pixels on the grasping tasks (camera + gripper state): QT-Opt's replay size, batch, random
start and update ratio (one update per 4 env steps, 8 envs), so the two compare at equal budgets."""

PRESETS = {"default": SAC_DEFAULT, "mujoco": SAC_MUJOCO, "pendulum": SAC_PENDULUM, "grasp": SAC_GRASP,
           "smoke": replace(SAC_DEFAULT, total_steps=600, learning_starts=200, batch_size=64, hidden=(32, 32),
                            compile=False)}


def training_threads(obs_shape: tuple[int, ...], config: SACConfig) -> int:
    """All of torch's threads when the update's GEMMs are big enough to split (batch and hidden >= 128:
    a 256x256x256 GEMM runs at ~180 GFLOP/s on one Zen 5 core and ~330 on two, and SB3's default SAC
    update, ~0.67 GFLOP, takes 6.0 ms on one thread against 3.3 on two); one thread for small ones."""
    import torch

    big = config.batch_size >= 128 and min(config.hidden) >= 128
    return torch.get_num_threads() if big or config.device != "cpu" else 1


def default_preset(env_id: str, backend: str | None = None) -> str:
    """``pendulum`` for Pendulum-v1, ``mujoco`` for the MuJoCo tasks, ``grasp`` for the grasping tasks,
    else ``default``."""
    from sensorimotor.envs.registry import spec

    if env_id == "Pendulum-v1":
        return "pendulum"
    tags = spec(env_id).tags
    return "mujoco" if "mujoco" in tags else "grasp" if "grasping" in tags else "default"
