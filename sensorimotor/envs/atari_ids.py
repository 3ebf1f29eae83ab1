"""Registers Atari games (tags ``atari``, ``pixels``) with two paths to the same observations:

- ``ale`` (default): ale-py's C++ vector env (``envs/vector/ale.py``).
- ``sync`` / ``subproc``: gymnasium's ``ALE/<Game>-v5`` with frame skip 1, then ``AtariPreprocessing``
  (no-op starts, frame skip 4 with max-pooling, 84x84 grayscale) and a zero-padded 4-frame stack.
  Life loss never terminates on this path (gymnasium's wrapper would restart the game).

Both follow the v5 protocol: sticky actions with probability 0.25, 108k-frame episodes. Needs the
``atari`` extra (ale-py; its ROMs ship in the wheel).
"""

from __future__ import annotations

import functools

import gymnasium as gym

from sensorimotor.envs.registry import register

GAMES = {"Pong": "pong", "Breakout": "breakout", "SpaceInvaders": "space_invaders", "Seaquest": "seaquest",
         "BeamRider": "beam_rider", "Qbert": "qbert", "Enduro": "enduro", "MsPacman": "ms_pacman"}
MAX_FRAMES = 108_000


def _require_ale():
    try:
        import ale_py
    except ImportError:
        from sensorimotor.errors import UserError

        raise UserError("Atari games need the atari extra: pip install -e '.[atari]' (ale-py)") from None
    gym.register_envs(ale_py)
    return ale_py


def make_atari(game: str, render_mode: str | None = None, repeat_action_probability: float = 0.25,
               noop_max: int = 30, stack: int = 4, full_action_space: bool = False) -> gym.Env:
    """One preprocessed Atari env: uint8 ``[stack, 84, 84]`` observations, raw rewards."""
    _require_ale()
    env = gym.make(f"ALE/{game}-v5", frameskip=1, repeat_action_probability=repeat_action_probability,
                   full_action_space=full_action_space, max_num_frames_per_episode=MAX_FRAMES, render_mode=render_mode)
    env = gym.wrappers.AtariPreprocessing(env, noop_max=noop_max, frame_skip=4, screen_size=84,
                                          terminal_on_life_loss=False, grayscale_obs=True, scale_obs=False)
    env = gym.wrappers.FrameStackObservation(env, stack, padding_type="zero")
    env.metadata = {**env.metadata, "frame_stack": stack}  # the leading axis is time: replays store one frame
    return env


def _make_ale(rom: str, num_envs: int, device, **kwargs):
    _require_ale()
    from sensorimotor.envs.vector.ale import AleVecEnv

    return AleVecEnv(rom, num_envs, device, **kwargs)


for _game, _rom in GAMES.items():
    register(f"ALE/{_game}-v5", functools.partial(make_atari, _game), tags=("atari", "pixels"),
             backends={"ale": functools.partial(_make_ale, _rom)}, default_backend="ale")
