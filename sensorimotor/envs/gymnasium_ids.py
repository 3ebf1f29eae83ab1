"""Registers the Gymnasium tasks that run on a bare install (classic control and MuJoCo v5) and
``CarRacing-v3`` (box2d extra), the last with channels-first frames like every pixel task of ours, and
``CarRacing-Repeat4-v3``: the same race seen as an agent is usually trained on it (each action held for
4 frames, a stack of the last 4 grayscale frames).

The five locomotion tasks and ``InvertedPendulum-v5`` are registered by ``sensorimotor.sim.locomotion``
(with native ``mujoco`` and ``mjx`` backends).
"""

from __future__ import annotations

import functools

import gymnasium as gym
import numpy as np

from sensorimotor.envs.registry import register
from sensorimotor.errors import UserError

CLASSIC = {"CartPole-v1": 500, "Pendulum-v1": 200, "Acrobot-v1": 500, "MountainCarContinuous-v0": 999}
MUJOCO = {"InvertedDoublePendulum-v5": 1000, "Reacher-v5": 50,
          "Swimmer-v5": 1000}


def _gym_make(gym_id: str, render_mode: str | None = None, **kwargs) -> gym.Env:
    return gym.make(gym_id, render_mode=render_mode, **kwargs)


for _id, _steps in CLASSIC.items():
    register(_id, functools.partial(_gym_make, _id), tags=("classic", "gymnasium"), max_episode_steps=_steps)
for _id, _steps in MUJOCO.items():
    register(_id, functools.partial(_gym_make, _id), tags=("mujoco", "gymnasium"), max_episode_steps=_steps)


class ChannelsFirst(gym.ObservationWrapper, gym.utils.RecordConstructorArgs):
    """``uint8 [H, W, C]`` frames as ``uint8 [C, H, W]`` (what our pixel encoders and PilotNet take)."""

    def __init__(self, env: gym.Env):
        gym.utils.RecordConstructorArgs.__init__(self)
        gym.ObservationWrapper.__init__(self, env)
        h, w, c = env.observation_space.shape
        self.observation_space = gym.spaces.Box(0, 255, (c, h, w), np.uint8)

    def observation(self, observation):
        return np.ascontiguousarray(observation.transpose(2, 0, 1))


class RepeatAction(gym.Wrapper, gym.utils.RecordConstructorArgs):
    """Holds each action for ``repeat`` steps of the wrapped env and returns the summed reward, the last
    observation and the last ``info``; stops early when the episode ends inside the repeat.

    ``draw_last_frame_only`` (CarRacing): the frames of all but the last step are thrown away, so they
    are not drawn: CarRacing draws its 96x96 observation on a 1000x800 surface every step (~6 ms, most
    of a step's cost), and drawing changes nothing in the simulation. While those steps run, the env's
    ``_render`` returns a copy of the last frame drawn; the results are the same to the bit (tested)."""

    def __init__(self, env: gym.Env, repeat: int, draw_last_frame_only: bool = False):
        if repeat < 1:
            raise UserError(f"repeat must be at least 1, got {repeat}.")
        if draw_last_frame_only and not callable(getattr(env.unwrapped, "_render", None)):
            raise UserError(f"draw_last_frame_only is for CarRacing (an env that draws in _render), not "
                            f"{type(env.unwrapped).__name__}.")
        gym.utils.RecordConstructorArgs.__init__(self, repeat=repeat, draw_last_frame_only=draw_last_frame_only)
        gym.Wrapper.__init__(self, env)
        self.repeat, self.draw_last_frame_only = repeat, draw_last_frame_only

    def step(self, action):
        total = 0.0
        for k in range(self.repeat):
            last = k == self.repeat - 1
            with _SkipFrameDrawing(self.env.unwrapped, self.draw_last_frame_only and not last):
                observation, reward, terminated, truncated, info = self.env.step(action)
            total += float(reward)
            if terminated or truncated:
                if not last and self.draw_last_frame_only:  # the episode's final frame is drawn after all
                    observation = self.env.unwrapped.state = self.env.unwrapped._render("state_pixels")
                break
        return observation, total, terminated, truncated, info


class OnePedal(gym.ActionWrapper, gym.utils.RecordConstructorArgs):
    """CarRacing's ``[steering, gas, brake]`` as ``[steering, pedal]`` in ``[-1, 1]^2``: a positive pedal
    is gas, a negative one brake, so the two are never pressed together.

    Why: a Beta policy's mean lies strictly inside its range, so with a separate brake the deterministic
    action always brakes a little, and a little costs a lot: full gas from the start on a straight
    reaches a speed of 85.6 after 100 frames with no brake, 77.9 with a brake of 0.02 and 65.6 with
    0.05 (measured, seed 1). With one pedal, "no brake" is every pedal above 0, not one point at the
    range's end."""

    def __init__(self, env: gym.Env):
        gym.utils.RecordConstructorArgs.__init__(self)
        gym.ActionWrapper.__init__(self, env)
        self.action_space = gym.spaces.Box(-1.0, 1.0, (2,), np.float32)

    def action(self, action):
        steering, pedal = np.clip(np.asarray(action, np.float32), -1.0, 1.0)
        return np.array([steering, max(pedal, 0.0), max(-pedal, 0.0)], np.float32)


class BrakeDeadZone(gym.ActionWrapper, gym.utils.RecordConstructorArgs):
    """CarRacing's brake with a dead zone: a brake below ``threshold`` is no brake, one above it is
    rescaled onto ``(0, 1]`` as ``(brake - threshold) / (1 - threshold)``, so full brake stays full brake
    and the map is continuous. Steering and gas pass unchanged.

    Why: the same as ``OnePedal``'s (a Beta policy's deterministic brake is never exactly 0, and a brake
    of 0.02 already costs 9% of the speed after 100 frames), keeping the three actions."""

    def __init__(self, env: gym.Env, threshold: float):
        if not 0.0 <= threshold < 1.0:
            raise UserError(f"brake_dead_zone must be in [0, 1), got {threshold}.")
        gym.utils.RecordConstructorArgs.__init__(self, threshold=threshold)
        gym.ActionWrapper.__init__(self, env)
        self.threshold = float(threshold)

    def action(self, action):
        steering, gas, brake = np.asarray(action, np.float32)
        brake = max(float(brake) - self.threshold, 0.0) / (1.0 - self.threshold)
        return np.array([steering, gas, brake], np.float32)


class _SkipFrameDrawing:
    """While active, ``env._render`` (an instance attribute shadowing the method) returns a copy of
    ``env.state``, the last frame drawn, instead of drawing."""

    def __init__(self, env: gym.Env, active: bool):
        self.env, self.active = env, active

    def __enter__(self):
        if self.active:
            self.env._render = lambda mode: self.env.state.copy()

    def __exit__(self, *exc):
        if self.active:
            del self.env._render


def _gym_car_racing(render_mode: str | None, **kwargs) -> gym.Env:
    try:
        import Box2D  # noqa: F401
    except ImportError:
        raise UserError("CarRacing-v3 needs box2d: pip install 'sensorimotor[box2d]'") from None
    return gym.make("CarRacing-v3", render_mode=render_mode, **kwargs)


def _car_racing(render_mode: str | None = None, **kwargs) -> gym.Env:
    return ChannelsFirst(_gym_car_racing(render_mode, **kwargs))


def _car_racing_repeat(render_mode: str | None = None, repeat: int = 4, stack: int = 4, one_pedal: bool = False,
                       brake_dead_zone: float = 0.0, **kwargs) -> gym.Env:
    """``CarRacing-v3`` with each action held ``repeat`` frames and the last ``stack`` decisions' frames
    in grayscale as the observation, ``uint8 [stack, 96, 96]``. The episode is the same 1,000 frames
    (Gymnasium's own limit), so its return is CarRacing-v3's return. ``one_pedal``: the action is
    ``[steering, pedal]`` (``OnePedal``); ``brake_dead_zone``: brakes below it are none
    (``BrakeDeadZone``). The race and its reward are the same."""
    if one_pedal and brake_dead_zone:
        raise UserError("one_pedal and brake_dead_zone do not combine: one pedal already has no brake "
                        "above 0; choose one.")
    env = _gym_car_racing(render_mode, **kwargs)
    if one_pedal:
        env = OnePedal(env)
    elif brake_dead_zone:
        env = BrakeDeadZone(env, brake_dead_zone)
    env = RepeatAction(env, repeat, draw_last_frame_only=True)
    return gym.wrappers.FrameStackObservation(gym.wrappers.GrayscaleObservation(env, keep_dim=False), stack)


# The external check of driving from pixels (issue "Driving from one camera"): 96x96 RGB, continuous
# [steering, gas, brake], 1000 steps; "solved" is 900+.
register("CarRacing-v3", _car_racing, tags=("box2d", "gymnasium", "pixels"), max_episode_steps=1000)
# The one to train on: a quarter of the decisions per episode (PPO's credit assignment spans 250 steps,
# not 1,000), motion visible in the stack, and only each decision's last frame drawn (3.7x the
# decisions/s of drawing all four; benchmarks/results.md, car_racing_env). Options: repeat, stack,
# one_pedal, brake_dead_zone.
register("CarRacing-Repeat4-v3", _car_racing_repeat, tags=("box2d", "gymnasium", "pixels"), max_episode_steps=250)
