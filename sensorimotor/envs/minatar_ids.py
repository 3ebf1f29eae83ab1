"""Registers MinAtar (Young & Tian 2019) games, tags ``minatar``, ``pixels``: 10x10 images with one
binary channel per object type, a small and fast pixel suite for tests and quick experiments.

Observations are uint8 ``[C, 10, 10]`` (channels first, 0 or 255 so pixel encoders scale them like
camera frames); sticky actions 0.1 and difficulty ramping as in the paper. Needs ``minatar``.
"""

from __future__ import annotations

import functools

import gymnasium as gym
import numpy as np

from sensorimotor.envs.registry import register

GAMES = {"Breakout": "breakout", "SpaceInvaders": "space_invaders", "Asterix": "asterix", "Freeway": "freeway",
         "Seaquest": "seaquest"}


class MinAtarEnv(gym.Env):
    """One MinAtar game behind the gymnasium API (all six actions; the paper's setting)."""

    metadata = {"render_modes": ["rgb_array"]}

    def __init__(self, game: str, render_mode: str | None = None, sticky_action_prob: float = 0.1,
                 difficulty_ramping: bool = True):
        try:
            from minatar import Environment
        except ImportError:
            from sensorimotor.errors import UserError

            raise UserError("MinAtar games need the minatar package: pip install minatar") from None
        self.game = Environment(game, sticky_action_prob=sticky_action_prob, difficulty_ramping=difficulty_ramping)
        h, w, c = self.game.state_shape()
        self.observation_space = gym.spaces.Box(0, 255, (c, h, w), np.uint8)
        self.action_space = gym.spaces.Discrete(self.game.num_actions())
        self.render_mode = render_mode
        self._palette = np.random.default_rng(0).integers(64, 256, (c, 3)).astype(np.uint8)

    def _obs(self) -> np.ndarray:
        return (self.game.state().transpose(2, 0, 1) * 255).astype(np.uint8)

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        if seed is not None:
            self.game.seed(seed)
        self.game.reset()
        return self._obs(), {}

    def step(self, action):
        reward, terminated = self.game.act(int(action))
        return self._obs(), float(reward), bool(terminated), False, {}

    def render(self):
        """An RGB image (each channel's objects in its own colour), 10x upscaled."""
        state = self.game.state()
        image = np.zeros((*state.shape[:2], 3), np.uint8)
        for channel in range(state.shape[2]):
            image[state[..., channel].astype(bool)] = self._palette[channel]
        return image.repeat(10, 0).repeat(10, 1)


for _name, _game in GAMES.items():
    register(f"MinAtar/{_name}-v1", functools.partial(MinAtarEnv, _game), tags=("minatar", "pixels"))
