"""Base class for VecEnv wrappers: forwards everything it does not override."""

from __future__ import annotations

from typing import Any


class VecEnvWrapper:
    def __init__(self, env: Any):
        self.env = env

    def __getattr__(self, name: str) -> Any:
        # Only reached for attributes the wrapper lacks: num_envs, spaces, device, render, close...
        return getattr(self.env, name)

    def reset(self, seed: int | None = None):
        return self.env.reset(seed=seed)

    def step(self, actions):
        return self.env.step(actions)

    def find(self, cls: type) -> Any | None:
        """The first wrapper of type ``cls`` in this chain (this one included), or None."""
        env = self
        while isinstance(env, VecEnvWrapper):
            if isinstance(env, cls):
                return env
            env = env.env
        return None
