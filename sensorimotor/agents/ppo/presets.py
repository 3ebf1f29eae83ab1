"""Named PPO configurations. Sources are cited per preset; ``PRESETS`` maps the CLI names to them and
``ENV_PRESETS`` names the preset an env id trains with when the user names none."""

from __future__ import annotations

from dataclasses import replace

from sensorimotor.agents.ppo.config import PPOConfig

# Classic control: SB3 defaults with 8 envs (rl-baselines3-zoo ppo.yml, CartPole-v1 row).
PPO_CLASSIC = PPOConfig(
    total_steps=100_000, num_envs=8, n_steps=32, batch_size=256, n_epochs=20, gamma=0.98,
    gae_lambda=0.8, learning_rate=1e-3, anneal_lr=True, clip_range=0.2, ent_coef=0.0,
    normalize_reward=False, normalize_obs=False,
)

# rl-baselines3-zoo hyperparams/ppo.yml, HalfCheetah (tuned; 1M steps, reported 5819 +- 663).
PPO_HALFCHEETAH = PPOConfig(
    total_steps=1_000_000, num_envs=1, n_steps=512, batch_size=64, n_epochs=20, gamma=0.98,
    gae_lambda=0.92, learning_rate=2.0633e-05, clip_range=0.1, ent_coef=0.000401762,
    vf_coef=0.58096, max_grad_norm=0.8, hidden=(256, 256), activation="relu", log_std_init=-2.0,
    ortho_init=False,
)

# rl-baselines3-zoo hyperparams/ppo.yml, Hopper (tuned; 1M steps, reported 2410 +- 10).
PPO_HOPPER = PPOConfig(
    total_steps=1_000_000, num_envs=1, n_steps=512, batch_size=32, n_epochs=5, gamma=0.999,
    gae_lambda=0.99, learning_rate=9.80828e-05, clip_range=0.2, ent_coef=0.00229519,
    vf_coef=0.835671, max_grad_norm=0.7, hidden=(256, 256), activation="relu", log_std_init=-2.0,
    ortho_init=False,
)

# rl-baselines3-zoo hyperparams/ppo.yml, Walker2d (tuned; 1M steps).
PPO_WALKER2D = PPOConfig(
    total_steps=1_000_000, num_envs=1, n_steps=512, batch_size=32, n_epochs=20, gamma=0.99,
    gae_lambda=0.95, learning_rate=5.05041e-05, clip_range=0.1, ent_coef=0.000585045,
    vf_coef=0.871923, max_grad_norm=1.0,
)

# The MuJoCo defaults of the PPO paper as CleanRL ppo_continuous_action.py runs them (Ant, Humanoid),
# with the 2048-step rollout spread over 4 envs: same samples per update, a quarter of the wall-clock
# per-step overhead.
PPO_MUJOCO = PPOConfig(
    total_steps=1_000_000, num_envs=4, n_steps=512, batch_size=64, n_epochs=10, gamma=0.99,
    gae_lambda=0.95, learning_rate=3e-4, anneal_lr=True, clip_range=0.2,
)

# `make train`: HalfCheetah in about 10 minutes on 2 CPU cores. Many envs and short rollouts keep the
# batched MuJoCo backend busy; big minibatches keep the update cheap per sample.
PPO_MAKE_TRAIN = PPOConfig(
    total_steps=1_500_000, num_envs=16, n_steps=256, batch_size=512, n_epochs=10, gamma=0.98,
    gae_lambda=0.92, learning_rate=3e-4, anneal_lr=True, clip_range=0.2, ent_coef=0.0,
    max_grad_norm=0.8, hidden=(256, 256), activation="relu", log_std_init=-1.0, ortho_init=True,
)

# The settings of benchmarks/ppo_mujoco.py: SB3's defaults with 8 envs and a [64, 64] MLP.
PPO_BENCH = PPOConfig(num_envs=8, n_steps=512, batch_size=64, n_epochs=10, normalize_obs=False,
                      normalize_reward=False)

# Recurrent PPO on velocity-masked CartPole: rl-baselines3-zoo recurrentppo.yml, CartPoleNoVel-v1 row
# (100k steps, reported 500): learning rate and clip range both decay linearly to zero.
PPO_LSTM_CLASSIC = PPOConfig(
    total_steps=100_000, num_envs=8, n_steps=32, batch_size=256, n_epochs=20, gamma=0.98,
    gae_lambda=0.8, learning_rate=1e-3, anneal_lr=True, clip_range=0.2, anneal_clip=True, ent_coef=0.0,
    hidden=(64,), activation="relu", ortho_init=False, recurrent="lstm", core_size=64,
)

# Recurrent PPO on velocity-masked Pendulum: rl-baselines3-zoo recurrentppo.yml, PendulumNoVel-v1 row
# (reported -218 at 100k steps with gSDE, which we do not have; state-independent noise needs longer).
# The learning rate decays linearly to zero (the zoo keeps it constant): with a constant 1e-3 the policy
# still swings at 200k steps and the final one is a lottery (5 seeds: -198 to -462; annealed: -172 to
# -229, see benchmarks/results.md).
PPO_LSTM_PENDULUM = PPOConfig(
    total_steps=200_000, num_envs=4, n_steps=1024, batch_size=128, n_epochs=10, gamma=0.9,
    gae_lambda=0.95, learning_rate=1e-3, anneal_lr=True, clip_range=0.2, ent_coef=0.0, hidden=(64,), activation="relu",
    ortho_init=False, recurrent="lstm", core_size=64, seq_len=128,
)

# The memory task: short episodes, whole-rollout sequences, a little entropy to keep guessing early.
PPO_LSTM_MEMORY = PPOConfig(
    total_steps=60_000, num_envs=8, n_steps=64, batch_size=128, n_epochs=8, gamma=0.99, gae_lambda=0.95,
    learning_rate=1e-3, clip_range=0.2, ent_coef=0.01, hidden=(64,), normalize_obs=False,
    normalize_reward=False, recurrent="lstm", core_size=64,
)

# The settings of benchmarks/recurrent_ppo.py: sb3-contrib RecurrentPPO's defaults (LSTM 64, [64, 64]
# heads, separate actor and critic LSTMs) with 8 envs and n_steps 128.
PPO_LSTM_BENCH = PPOConfig(num_envs=8, n_steps=128, batch_size=128, n_epochs=10, normalize_obs=False,
                           normalize_reward=False, recurrent="lstm", core_size=64)

# VizDoom from pixels: the Atari PPO settings of CleanRL / the PPO paper (lr 2.5e-4, clip 0.1,
# entropy 0.01, 4 epochs) with one 256-unit LSTM after the conv encoder, shared by actor and critic as
# in CleanRL's LSTM PPO (see PPOConfig.shared_core), and 32-step BPTT chunks.
PPO_DOOM = PPOConfig(
    total_steps=2_000_000, num_envs=8, n_steps=128, batch_size=256, n_epochs=4, gamma=0.99, gae_lambda=0.95,
    learning_rate=2.5e-4, anneal_lr=True, clip_range=0.1, ent_coef=0.01, vf_coef=0.5, max_grad_norm=0.5,
    hidden=(), activation="relu", normalize_obs=False, normalize_reward=True, recurrent="lstm", core_size=256,
    shared_core=True, seq_len=32,
)

# Sparse-reward Doom (my_way_home: +1 at the vest, a tiny living cost otherwise): advantages are used as
# computed. Normalized per minibatch, most minibatches hold no success, so their advantages are value-error
# noise scaled up to unit size (our reading of the runs: the policy drifted off uniform and below random).
# One seed each, 300k steps: 5% success normalized, 38.8% raw, random 13.8% (benchmarks/results.md,
# doom_my_way_home_v1_300k*).
PPO_DOOM_SPARSE = replace(PPO_DOOM, normalize_advantage=False)

# MJX on a GPU: thousands of envs, short rollouts, few large minibatches (the shape of Brax's Ant PPO:
# 4096 envs, discount 0.97, 4 epochs, lr 3e-4; a 32-step rollout is 131k samples in 8 minibatches).
# A starting point, not tuned here: no GPU was available when it was written (see docs/mjx.md).
PPO_MJX = PPOConfig(
    total_steps=50_000_000, num_envs=4096, n_steps=32, batch_size=16384, n_epochs=4, gamma=0.97,
    gae_lambda=0.95, learning_rate=3e-4, clip_range=0.3, ent_coef=1e-3, max_grad_norm=1.0, hidden=(256, 256),
    activation="silu", log_std_init=-0.5, device="cuda",
)

# Atari from pixels without memory (CleanRL ppo_atari.py, the PPO paper's Atari settings): 8 envs x 128
# steps, 4 minibatches, 4 epochs, lr 2.5e-4 annealed, clip 0.1, entropy 0.01, linear heads on the shared
# Nature CNN. CleanRL clips rewards to their sign; here they are scaled by the return's running std.
PPO_ATARI = PPOConfig(
    total_steps=10_000_000, num_envs=8, n_steps=128, batch_size=256, n_epochs=4, gamma=0.99, gae_lambda=0.95,
    learning_rate=2.5e-4, anneal_lr=True, clip_range=0.1, ent_coef=0.01, vf_coef=0.5, max_grad_norm=0.5,
    hidden=(), activation="relu", normalize_obs=False, normalize_reward=True,
)

# Steering from pixels (the driving world, CarRacing): SB3's CnnPolicy settings that DESIGN.md 6 measured
# on CarRacing (4 envs, n_steps 256, minibatch 128, 4 epochs), the Nature CNN with linear heads, return
# scaling. A starting point: not yet tuned by a learning run here.
PPO_DRIVE = PPOConfig(
    total_steps=1_000_000, num_envs=4, n_steps=256, batch_size=128, n_epochs=4, gamma=0.99, gae_lambda=0.95,
    learning_rate=2.5e-4, anneal_lr=True, clip_range=0.2, ent_coef=0.0, vf_coef=0.5, max_grad_norm=0.5,
    hidden=(), activation="relu", normalize_obs=False, normalize_reward=True,
)

# Fine-tuning a behaviour-cloning PilotNet (``--ppo.init-from BC_RUN``): the actor starts as the BC
# policy, so exploration starts narrow (std 0.2 of a steering range of 2) and steps are small.
PPO_DRIVE_FINETUNE = replace(PPO_DRIVE, encoder="pilotnet", log_std_init=-1.6, learning_rate=1e-4, anneal_lr=False)

# Gymnasium's CarRacing-v3 (96x96 frames; the dashboard shows the speed, so one frame suffices):
# the drive settings with rl-zoo's lower learning rate and a narrower start (log-std -1) for its three
# actions (steering, gas, brake), 4M steps as rl-zoo's 862. A starting point, not tuned here yet.
PPO_CARRACING = replace(PPO_DRIVE, total_steps=4_000_000, learning_rate=1e-4, log_std_init=-1.0)

# CarRacing-Repeat4-v3 (each action held 4 frames, 4 grayscale frames stacked): 1M decisions = 4M
# frames, rl-zoo's frame budget. 8 envs x 128 steps (32 decisions of each of 8 episodes a rollout),
# 4 minibatches, up to 8 epochs: the env is the cost, so each frame is reused more than the drive
# preset does, but an update stops once an epoch's approximate KL passes 1.5 x 0.05 (without that,
# the first run here moved the policy by a KL of 0.1-0.15 per update, half the samples clipped).
PPO_CARRACING_REPEAT = replace(PPO_CARRACING, total_steps=1_000_000, num_envs=8, n_steps=128, batch_size=256,
                               n_epochs=8, learning_rate=2.5e-4, target_kl=0.05)

# The same with a Beta policy (Chou et al. 2017, who showed it on CarRacing): gas and brake drawn inside
# [0, 1] and steering inside [-1, 1], no clipping. One change against the Gaussian preset, to compare.
PPO_CARRACING_REPEAT_BETA = replace(PPO_CARRACING_REPEAT, distribution="beta")

# PPO from pixels on the grasping tasks (camera + gripper state, a Dict observation): the baseline
# QT-Opt is measured against (benchmarks/results.md, rows qtopt_vs_ppo_*). Episodes are 8 steps with a
# 0/1 reward at the end; 8 envs on the pybullet backend, 512 steps per rollout, a Nature-CNN per
# image and a 256-unit head; exploration starts at std 0.6 of the [-1, 1] action range.
PPO_GRASP = PPOConfig(
    total_steps=100_000, num_envs=8, n_steps=64, batch_size=128, n_epochs=4, gamma=0.99, gae_lambda=0.95,
    learning_rate=3e-4, anneal_lr=True, clip_range=0.2, ent_coef=0.0, vf_coef=0.5, max_grad_norm=0.5,
    hidden=(256,), activation="relu", log_std_init=-0.5, normalize_obs=False, normalize_reward=False,
    compile=False,
)

PRESETS: dict[str, PPOConfig] = {
    "default": PPOConfig(),
    "classic": PPO_CLASSIC,
    "halfcheetah": PPO_HALFCHEETAH,
    "hopper": PPO_HOPPER,
    "walker2d": PPO_WALKER2D,
    "mujoco": PPO_MUJOCO,
    "make-train": PPO_MAKE_TRAIN,
    "bench": PPO_BENCH,
    "lstm-classic": PPO_LSTM_CLASSIC,
    "lstm-pendulum": PPO_LSTM_PENDULUM,
    "lstm-memory": PPO_LSTM_MEMORY,
    "lstm-bench": PPO_LSTM_BENCH,
    "atari": PPO_ATARI,
    "drive": PPO_DRIVE,
    "grasp": PPO_GRASP,
    "drive-finetune": PPO_DRIVE_FINETUNE,
    "carracing": PPO_CARRACING,
    "carracing-repeat4": PPO_CARRACING_REPEAT,
    "carracing-repeat4-beta": PPO_CARRACING_REPEAT_BETA,
    "doom": PPO_DOOM,
    "doom-sparse": PPO_DOOM_SPARSE,
    "mjx": PPO_MJX,
    "smoke": replace(PPO_CLASSIC, total_steps=512, num_envs=2, n_steps=64, batch_size=64, n_epochs=2,
                     compile=False),
}

ENV_PRESETS: dict[str, str] = {
    "CartPole-v1": "classic", "Acrobot-v1": "classic",
    "HalfCheetah-v5": "halfcheetah", "Hopper-v5": "hopper", "Walker2d-v5": "walker2d",
    "Ant-v5": "mujoco", "Humanoid-v5": "mujoco",
    "CartPoleNoVel-v1": "lstm-classic", "MountainCarContinuousNoVel-v0": "lstm-classic",
    **{f"Doom-{name}-v{version}": "doom" for name in ("Basic", "HealthGathering", "DefendTheCenter")
       for version in (0, 1)},
    "Doom-MyWayHome-v0": "doom-sparse", "Doom-MyWayHome-v1": "doom-sparse",
    **{f"RacecarDrive{size}{split}-v0": "drive" for size in ("", "64") for split in ("", "-Test")},
    "CarRacing-v3": "carracing", "CarRacing-Repeat4-v3": "carracing-repeat4",
    "PendulumNoVel-v1": "lstm-pendulum", "CueDelay-v0": "lstm-memory", "CueDelay-Long-v0": "lstm-memory",
}


def default_preset(env_id: str, backend: str | None = None) -> str:
    """The preset an env trains with when the user names none: ``mjx`` for the mjx backend on a CUDA
    machine, else the env's own (``ENV_PRESETS``), else ``default``."""
    if backend == "mjx":
        import torch

        if torch.cuda.is_available():  # thousands of envs need the GPU
            return "mjx"
    if env_id in ENV_PRESETS:
        return ENV_PRESETS[env_id]
    from sensorimotor.envs.registry import spec

    tags = spec(env_id).tags
    return "atari" if "atari" in tags else "grasp" if "grasping" in tags else "default"
