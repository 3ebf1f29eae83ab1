"""VizDoom scenarios as gymnasium envs with small pixel observations, headless.

One :class:`DoomEnv` drives a ``vizdoom.DoomGame`` from a scenario's ``.cfg`` (they ship in the
``vizdoom`` wheel): the screen is rendered at 160x120 RGB, the observation is its grayscale at half
size, ``uint8 [1, 60, 80]`` (channels first), and each action presses either one of the scenario's
buttons (``actions="single"``) or one combination of them (``actions="combos"``: turn and move at
once, never two opposite buttons; see :func:`button_combos`) for ``frame_skip`` tics. The scenario's
episode timeout is a truncation; death and goals terminate.
"""

from __future__ import annotations

import os
import tempfile
from itertools import product

import gymnasium as gym
import numpy as np

from sensorimotor.errors import UserError

OBS_SHAPE = (1, 60, 80)
ACTION_SETS = ("single", "combos")
# Buttons that cancel each other: a combination holds at most one of each pair.
OPPOSITE_BUTTONS = (("TURN_LEFT", "TURN_RIGHT"), ("MOVE_LEFT", "MOVE_RIGHT"), ("MOVE_FORWARD", "MOVE_BACKWARD"))


def button_combos(buttons: list[str]) -> list[list[int]]:
    """Every press pattern over ``buttons`` (names, in the game's order) with at least one button and
    no two opposite ones, as 0/1 lists; single presses first, in button order.

    ``TURN_LEFT, TURN_RIGHT, MOVE_FORWARD`` (health_gathering) gives 5 actions: the three buttons,
    then forward + left turn and forward + right turn.
    """
    index = {name: i for i, name in enumerate(buttons)}
    pairs = [(index[a], index[b]) for a, b in OPPOSITE_BUTTONS if a in index and b in index]
    patterns = [list(p) for p in product((0, 1), repeat=len(buttons))
                if any(p) and not any(p[i] and p[j] for i, j in pairs)]
    return sorted(patterns, key=lambda p: (sum(p), [-x for x in p]))


def _vizdoom():
    try:
        import vizdoom
    except ImportError:
        raise UserError("VizDoom envs need the vizdoom extra: pip install -e '.[vizdoom]'.") from None
    return vizdoom


class DoomEnv(gym.Env):
    """Args:
        scenario: a ``.cfg`` name from ``vizdoom.scenarios_path`` (``"my_way_home"``) or a path.
        frame_skip: game tics per action (the action is repeated; rewards are summed by VizDoom).
        actions: ``"single"`` (one button per action) or ``"combos"`` (:func:`button_combos`).
        render_mode: ``"rgb_array"`` returns the 120x160 colour frame.
    """

    metadata = {"render_modes": ["rgb_array"], "render_fps": 35}

    def __init__(self, scenario: str, frame_skip: int = 4, actions: str = "single", render_mode: str | None = None):
        if actions not in ACTION_SETS:
            raise UserError(f"unknown Doom action set {actions!r}; choose one of {', '.join(ACTION_SETS)}.")
        vzd = _vizdoom()
        path = scenario if scenario.endswith(".cfg") else os.path.join(vzd.scenarios_path, f"{scenario}.cfg")
        if not os.path.isfile(path):
            known = sorted(f[:-4] for f in os.listdir(vzd.scenarios_path) if f.endswith(".cfg"))
            raise UserError(f"VizDoom scenario file {path} not found; shipped scenarios: {', '.join(known)}.")
        self.frame_skip, self.render_mode = frame_skip, render_mode
        self.game = vzd.DoomGame()
        self.game.load_config(path)
        # VizDoom writes its engine settings file into the working directory unless told otherwise.
        self.game.set_doom_config_path(os.path.join(tempfile.gettempdir(), "sensorimotor_vizdoom.ini"))
        self.game.set_window_visible(False)
        self.game.set_sound_enabled(False)
        self.game.set_screen_resolution(vzd.ScreenResolution.RES_160X120)
        self.game.set_screen_format(vzd.ScreenFormat.RGB24)
        self.game.set_mode(vzd.Mode.PLAYER)
        try:
            self.game.init()
        except Exception as exc:  # vizdoom raises its own types, e.g. ViZDoomNoOpenALSoundException
            raise UserError(f"VizDoom could not start {os.path.basename(path)}: {exc}") from None
        names = [b.name for b in self.game.get_available_buttons()]
        self._actions = np.eye(len(names), dtype=np.uint8).tolist() if actions == "single" else button_combos(names)
        self.action_space = gym.spaces.Discrete(len(self._actions))
        self.observation_space = gym.spaces.Box(0, 255, OBS_SHAPE, np.uint8)
        self._frame = np.zeros((120, 160, 3), np.uint8)

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        if seed is not None:
            self.game.set_seed(int(seed) % (2**31))
        self.game.new_episode()
        return self._observe(), {}

    def step(self, action):
        reward = self.game.make_action(self._actions[int(action)], self.frame_skip)
        done = self.game.is_episode_finished()
        truncated = bool(done and self.game.is_episode_timeout_reached())
        obs = self._observe() if not done else self._last_obs
        return obs, float(reward), bool(done and not truncated), truncated, {}

    def render(self):
        return self._frame.copy()

    def close(self):
        self.game.close()

    def _observe(self) -> np.ndarray:
        state = self.game.get_state()
        if state is not None:
            self._frame = state.screen_buffer  # [120, 160, 3] uint8
        gray = self._frame.astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32)
        small = gray.reshape(60, 2, 80, 2).mean(axis=(1, 3))  # 2x2 area average
        self._last_obs = small.astype(np.uint8)[None]
        return self._last_obs
