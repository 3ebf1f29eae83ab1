"""The Python API, as Stable-Baselines3 users know it, on the same pipeline as the CLI::

    from sensorimotor.app.api import PPO, load

    agent = PPO("CartPole-v1", preset="classic").learn(50_000)   # a run directory, as `train` writes
    action, state = agent.predict(obs)                            # numpy or torch, one obs or a batch
    policy = load(agent.run_dir)                                  # later, or on another machine
    action, state = policy.predict(obs, state, episode_start)     # recurrent state is explicit

``learn`` trains a registered agent on an env id or on a VecEnv the caller built (any object with the
VecEnv contract of ``envs/core.py``), writes the run directory (config, metrics, checkpoints) and
returns the trainer. ``make(agent_name, ...)`` reaches every registered agent; ``PPO``, ``DQN`` and
``SAC`` are shortcuts.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import numpy as np
import torch

from sensorimotor.agents.env_builder import normalizers
from sensorimotor.agents.registry import agent_spec
from sensorimotor.app.loading import load_run
from sensorimotor.app.run_dir import RunArgs
from sensorimotor.app.train import resume, train
from sensorimotor.errors import UserError


class Policy:
    """A trained agent that acts on raw observations: the env's normalizer (frozen) is applied inside,
    and memory is passed explicitly, SB3-style.

    Args:
        agent: a registered agent with its weights loaded.
        observation_shape: one env's observation shape (to tell a single observation from a batch).
        obs_norm: the frozen observation normalizer of the training env, or None.
    """

    def __init__(self, agent, observation_shape: tuple[int, ...] | dict[str, tuple[int, ...]], obs_norm=None, env=None):
        self.agent, self.obs_norm, self._env = agent, obs_norm, env
        self.observation_shape = dict(observation_shape) if isinstance(observation_shape, dict) else tuple(observation_shape)

    def predict(self, obs, state: Any = None, episode_start=None, deterministic: bool = True) -> tuple[np.ndarray, Any]:
        """``obs`` ``[N, ...]`` or one observation ``[...]`` -> ``(actions, state)``. ``state``: what the
        previous call returned (None: fresh memory); ``episode_start [N]`` bool marks envs whose episode
        begins with this observation. Memoryless agents return ``state = None``."""
        if isinstance(obs, dict):  # a Dict observation (camera + state): one array per part
            x = {k: torch.as_tensor(np.asarray(v) if not isinstance(v, torch.Tensor) else v) for k, v in obs.items()}
            single = all(tuple(v.shape) == tuple(self.observation_shape[k]) for k, v in x.items())
            x = {k: (v[None] if single else v).to(self.agent.device) for k, v in x.items()}
            with torch.inference_mode():
                actions = self.agent.predict(x, deterministic).cpu().numpy()
            return (actions[0] if single else actions), None
        x = torch.as_tensor(np.asarray(obs) if not isinstance(obs, torch.Tensor) else obs)
        single = tuple(x.shape) == self.observation_shape
        if single:
            x = x[None]
        x = x.to(self.agent.device)
        if self.obs_norm is not None:
            x = self.obs_norm.normalize(x.float())
        if state is None:
            self.agent.reset_state(x.shape[0])
        else:
            self.agent.set_memory(state)
        if episode_start is not None:
            self.agent.end_episodes(torch.as_tensor(np.asarray(episode_start), dtype=torch.bool).reshape(-1))
        with torch.inference_mode():
            actions = self.agent.predict(x, deterministic)
        out = actions.cpu().numpy()
        return (out[0] if single else out), self.agent.memory()

    def close(self) -> None:
        if self._env is not None:
            self._env.close()
            self._env = None


def load(run_dir: str, checkpoint: str | None = None) -> Policy:
    """The policy of checkpoint ``checkpoint`` (default the last) of a run directory, any agent."""
    run = load_run(run_dir, checkpoint=checkpoint)
    return Policy(run.agent, observation_shape(run.env.single_observation_space), normalizers(run.env).get("obs_norm"),
                  run.env)


def observation_shape(space) -> tuple[int, ...] | dict[str, tuple[int, ...]]:
    """One observation's shape, or ``{key: shape}`` for a ``Dict`` space."""
    import gymnasium as gym

    if isinstance(space, gym.spaces.Dict):
        return {k: tuple(s.shape) for k, s in space.spaces.items()}
    return tuple(space.shape)


class Trainer:
    """``make(agent, env, preset=None, **overrides)``: ``overrides`` replace fields of the preset's config
    (``learning_rate=1e-3``); run flags go by keyword (``seed``, ``run_dir``, ``backend``,
    ``checkpoint_every``, ``wandb``, ``progress``, ``env_options``: ``{"laps": 1}``)."""

    def __init__(self, agent: str, env, preset: str | None = None, **kwargs: Any):
        self.spec = agent_spec(agent)
        run_fields = {f.name for f in dataclasses.fields(RunArgs)} - {"env", "preset", "resume"}
        run_kwargs = {k: kwargs.pop(k) for k in list(kwargs) if k in run_fields}
        if "env_options" in run_kwargs:  # kept in config.json as the CLI's text: 1 -> "1", True -> "true"
            run_kwargs["env_options"] = {k: v if isinstance(v, str) else json.dumps(v)
                                         for k, v in dict(run_kwargs["env_options"]).items()}
        self.env = None if isinstance(env, str) else env
        env_id = env if isinstance(env, str) else f"custom:{type(env).__name__}"
        if self.env is not None and preset is None:  # no env id to pick a preset by
            preset = "default" if "default" in self.spec.presets else next(iter(self.spec.presets))
        preset_name, config = self.spec.preset(env_id, preset, run_kwargs.get("backend"))
        config_fields = {f.name for f in dataclasses.fields(config)}
        unknown = set(kwargs) - config_fields
        if unknown:
            raise UserError(f"unknown {agent} setting(s) {', '.join(sorted(unknown))}; see `sensorimotor train "
                            f"{agent} --help` for the {agent}.* fields and the run flags.")
        if self.env is not None and "num_envs" in config_fields:
            kwargs["num_envs"] = self.env.num_envs
        self.config = dataclasses.replace(config, **kwargs)
        self.run = RunArgs(env=env_id, preset=preset_name, progress=run_kwargs.pop("progress", False), **run_kwargs)
        self.run_dir: str | None = None
        self.policy: Policy | None = None

    def learn(self, total_steps: int) -> Trainer:
        """Train for ``total_steps`` env steps: the first call in a new run directory, later calls
        continue that run (weights, optimizer, replay) for ``total_steps`` more; returns ``self``."""
        if self.run_dir is None:
            config = dataclasses.replace(self.config, total_steps=int(total_steps))
            self.run_dir = train(self.spec.name, self.run, config, env=self.env)
        else:
            resume(self.run_dir, more_steps=int(total_steps), env=self.env)
        if self.env is None:
            self.policy = load(self.run_dir)
        else:  # a caller's env cannot be rebuilt from an id: load onto it (its normalizers freeze until
            # the next learn)
            self.policy = load_run_for_custom_env(self.spec, self.config, self.env, self.run_dir)
        return self

    def predict(self, obs, state: Any = None, episode_start=None, deterministic: bool = True):
        if self.policy is None:
            raise UserError("call learn() before predict(), or load(run_dir) a trained run.")
        return self.policy.predict(obs, state, episode_start, deterministic)


def load_run_for_custom_env(spec, config, env, run_dir: str) -> Policy:
    """The last checkpoint of ``run_dir`` on a VecEnv the caller built (its spaces, its normalizers)."""
    from sensorimotor.app.checkpointing import load_agent_checkpoint
    from sensorimotor.app.run_dir import RunDir

    agent = spec.build(config, env.single_observation_space, env.single_action_space)
    load_agent_checkpoint(RunDir(run_dir).checkpoint(), spec.name, agent, env, training=False)
    return Policy(agent, observation_shape(env.single_observation_space), normalizers(env).get("obs_norm"))


def make(agent: str, env, preset: str | None = None, **kwargs: Any) -> Trainer:
    """A trainer for any registered agent (``sensorimotor.agents.registry.list_agents()``)."""
    return Trainer(agent, env, preset, **kwargs)


def PPO(env, preset: str | None = None, **kwargs: Any) -> Trainer:  # noqa: N802 - named as the algorithm
    return Trainer("ppo", env, preset, **kwargs)


def DQN(env, preset: str | None = None, **kwargs: Any) -> Trainer:  # noqa: N802
    return Trainer("dqn", env, preset, **kwargs)


def SAC(env, preset: str | None = None, **kwargs: Any) -> Trainer:  # noqa: N802
    return Trainer("sac", env, preset, **kwargs)
