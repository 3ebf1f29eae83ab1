"""Stable-Baselines3 interop: our VecEnvs as SB3 ``VecEnv``s, and SB3 models as our deployable policies.

``SB3VecEnv(make_vec("HalfCheetah-v5", 8, backend="mujoco"))`` lets SB3's algorithms train on our batched
MuJoCo, ALE and PyBullet backends. It keeps SB3's conventions: numpy in and out, ``dones`` as
``terminated | truncated``, ``infos[i]["terminal_observation"]`` at episode ends (SB3 bootstraps
truncated episodes from it), ``infos[i]["TimeLimit.truncated"]``, and ``infos[i]["episode"]`` with the
raw return and length (what SB3's ``Monitor`` would write), so ``ep_info_buffer`` and its logs work.

``sb3_actor(model)`` turns an SB3 ``PPO``/``A2C``/``SAC``/``TD3``/``DQN`` model (MLP or CNN policy)
into the acting module that ``sensorimotor export`` wraps (``app/export.py``): the graph then returns
what ``model.predict(obs, deterministic=True)`` returns, so an SB3-trained policy deploys through our bridge.
"""

from __future__ import annotations

import os
from typing import Any

import gymnasium as gym
import numpy as np
import torch
from torch import nn

from sensorimotor.errors import UserError

try:
    from stable_baselines3.common.vec_env import VecEnv as _SB3VecEnvBase
except ImportError:  # an optional dependency: say how to get it instead of a traceback
    raise UserError("SB3 interop needs stable-baselines3: pip install -e '.[bench]'") from None


class SB3VecEnv(_SB3VecEnvBase):
    """An SB3 ``VecEnv`` over our VecEnv ``env`` (see the module docstring)."""

    def __init__(self, env):
        super().__init__(env.num_envs, env.single_observation_space, env.single_action_space)
        self.env, self._actions, self._seed = env, None, None

    def reset(self) -> np.ndarray:
        obs = self.env.reset(seed=self._seed)
        self._seed = None
        return obs.cpu().numpy()

    def seed(self, seed: int | None = None):
        self._seed = seed
        return [seed] * self.num_envs

    def step_async(self, actions: np.ndarray) -> None:
        self._actions = torch.as_tensor(np.asarray(actions), device=self.env.device)

    def step_wait(self):
        obs, reward, terminated, truncated, info = self.env.step(self._actions)
        end = info.get("episode_end", terminated | truncated).cpu().numpy()
        terminated, truncated = terminated.cpu().numpy(), truncated.cpu().numpy()
        dones = terminated | truncated
        final_obs = info["final_obs"].cpu().numpy()
        returns, lengths = info["episode_return"].cpu().numpy(), info["episode_length"].cpu().numpy()
        infos: list[dict[str, Any]] = [{} for _ in range(self.num_envs)]
        for i in np.flatnonzero(dones):
            infos[i]["terminal_observation"] = final_obs[i]
            infos[i]["TimeLimit.truncated"] = bool(truncated[i] and not terminated[i])
        for i in np.flatnonzero(end):
            infos[i]["episode"] = {"r": float(returns[i]), "l": int(lengths[i]), "t": 0.0}
        return obs.cpu().numpy(), reward.cpu().numpy(), dones, infos

    def close(self) -> None:
        self.env.close()

    def get_attr(self, attr_name: str, indices=None) -> list[Any]:
        value = getattr(self.env, attr_name, getattr(self, attr_name, None))
        return [value] * len(self._indices(indices))

    def set_attr(self, attr_name: str, value: Any, indices=None) -> None:
        setattr(self.env, attr_name, value)

    def env_method(self, method_name: str, *args, indices=None, **kwargs) -> list[Any]:
        return [getattr(self.env, method_name)(*args, **kwargs)]

    def env_is_wrapped(self, wrapper_class, indices=None) -> list[bool]:
        return [False] * len(self._indices(indices))

    def _indices(self, indices) -> list[int]:
        if indices is None:
            return list(range(self.num_envs))
        return [indices] if isinstance(indices, int) else list(indices)


SB3_ALGORITHMS = ("PPO", "A2C", "SAC", "TD3", "DQN")


def load_sb3_model(path: str):
    """An SB3 model from its zip, the algorithm read from the saved policy class."""
    from stable_baselines3 import DQN, PPO, SAC, TD3  # A2C zips load as PPO: the same policy
    from stable_baselines3.common.save_util import load_from_zip_file

    if not os.path.isfile(path):
        raise UserError(f"no SB3 model at {path}")
    try:
        data, _, _ = load_from_zip_file(path, device="cpu")
    except Exception as exc:  # noqa: BLE001 - zipfile, json and pickle raise their own types
        raise UserError(f"{path} is not a readable SB3 model zip ({type(exc).__name__}: {exc})") from None
    policy = getattr(data.get("policy_class"), "__module__", "") + "." + getattr(data.get("policy_class"), "__name__", "")
    by_module = {"stable_baselines3.sac.": SAC, "stable_baselines3.td3.": TD3, "stable_baselines3.dqn.": DQN,
                 "stable_baselines3.common.policies.": PPO}
    algorithm = next((cls for prefix, cls in by_module.items() if policy.startswith(prefix)), None)
    if algorithm is None:
        raise UserError(f"{path} holds a {policy} policy; export takes SB3's {', '.join(SB3_ALGORITHMS)} models.")
    return algorithm.load(path, device="cpu")


class SB3Actor(nn.Module):
    """``obs [B, ...]`` -> what SB3's ``predict(obs, deterministic=True)`` returns, inside one graph:
    continuous actions in the env's units (unsquashed or clipped as SB3 does; ``continuous = True``),
    or one score per discrete action whose argmax is SB3's action (DQN's Q-values, PPO's logits)."""

    def __init__(self, model):
        super().__init__()
        self.policy = model.policy.eval()
        space = model.policy.action_space
        self.continuous = isinstance(space, gym.spaces.Box)
        self.squash = bool(getattr(model.policy, "squash_output", False))
        if self.continuous:
            self.register_buffer("low", torch.as_tensor(space.low, dtype=torch.float32))
            self.register_buffer("high", torch.as_tensor(space.high, dtype=torch.float32))
        self.q_values = hasattr(self.policy, "q_net")  # DQN

    def export_actor(self):
        from sensorimotor.policies.export import ActorGraph

        return ActorGraph(self, self.continuous)

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        # The distributions' modes by hand: torch.export cannot trace torch.distributions objects.
        policy = self.policy
        if self.q_values:  # DQN
            return policy.q_net(obs)
        if hasattr(policy, "mlp_extractor"):  # PPO, A2C: mean (or logits) of the actor head
            features = policy.extract_features(obs, policy.pi_features_extractor)
            params = policy.action_net(policy.mlp_extractor.forward_actor(features))
            if not self.continuous:
                return params  # logits: their argmax is SB3's deterministic action
            action = torch.tanh(params) if self.squash else params
        elif hasattr(policy.actor, "get_action_dist_params"):  # SAC: tanh of the Gaussian's mean
            mean, _, _ = policy.actor.get_action_dist_params(obs)
            action = torch.tanh(mean)
        else:  # TD3: a deterministic tanh actor
            action = policy.actor(obs)
        if self.squash:  # in [-1, 1]: mapped to the bounds as SB3's unscale_action
            return self.low + 0.5 * (action + 1.0) * (self.high - self.low)
        return torch.maximum(torch.minimum(action, self.high), self.low)
