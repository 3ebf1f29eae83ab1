"""Builds the wrapped VecEnv an agent trains and is evaluated on, the same way every time."""

from __future__ import annotations

import gymnasium as gym
import numpy as np

from sensorimotor.agents.ppo.config import PPOConfig
from sensorimotor.envs import make_vec
from sensorimotor.envs.wrappers import ClipAction, NormalizeObservation, ScaleReward
from sensorimotor.errors import check
from sensorimotor.policies.models.multi_input import image_and_vector_keys


def build_env(env_id: str, config: PPOConfig, num_envs: int | None = None, backend: str | None = None,
              render_mode: str | None = None, training: bool = True, env_options: dict | None = None):
    """``make_vec`` then, in order: action clipping (Box actions), observation normalization (flat
    observations only: not pixels, not ``Dict`` parts) and reward scaling as the config asks. Normalizers start in training mode; the
    pipeline loads and freezes them for evaluation (``training=False`` builds the same chain)."""
    kwargs = {**(env_options or {}), **({"render_mode": render_mode} if render_mode else {})}
    env = make_vec(env_id, num_envs or config.num_envs, backend=backend, device=config.device, **kwargs)
    obs_space = env.single_observation_space
    parts = isinstance(obs_space, gym.spaces.Dict)
    pixels = isinstance(obs_space, gym.spaces.Box) and len(obs_space.shape) == 3 and obs_space.dtype == np.uint8
    if parts:  # camera + state: each part an image or a vector (refused in one line otherwise)
        image_and_vector_keys(obs_space)
    check(parts or (isinstance(obs_space, gym.spaces.Box) and (len(obs_space.shape) == 1 or pixels)),
          f"{env_id} has observations {obs_space}; this agent takes flat vectors, uint8 [C, H, W] pixels or a "
          "Dict of those.")
    if isinstance(env.single_action_space, gym.spaces.Box):
        env = ClipAction(env)
    # Pixels are scaled to [0, 1] by the encoder instead; Dict parts go in as the task gives them.
    if config.normalize_obs and not pixels and not parts:
        env = NormalizeObservation(env)
    if config.normalize_reward:
        env = ScaleReward(env, gamma=config.gamma)
    return env


def normalizers(env) -> dict[str, object]:
    """The stateful wrappers of ``env`` by checkpoint key (absent ones left out)."""
    found = {"obs_norm": _find(env, NormalizeObservation), "reward_norm": _find(env, ScaleReward)}
    return {k: v for k, v in found.items() if v is not None}


def _find(env, cls):
    return env.find(cls) if hasattr(env, "find") else None
