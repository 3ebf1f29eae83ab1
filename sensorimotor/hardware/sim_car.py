"""``SimCar``: the driving world's racecar served as a car (``car_spec``), front camera included.

Goals are ``[steering, throttle]`` efforts; the world's wheels turn at the task's ``speed`` x
throttle (zero or less brakes). Each state carries ``position`` (the command being applied),
``speed`` ``[1]`` (m/s), ``camera`` ``[H, W, 3]`` uint8 (the task's front camera), the task's
``cross_track_error``, ``progress`` and ``interventions`` ``[1]``, and ``reward`` / ``terminated`` /
``truncated`` / ``episode_return`` so that a client can score episodes. Served with
``--options interventions true`` the world recentres the car as PilotNet's simulator did, and a
client computes autonomy from what it receives (``app/autonomy.py``).
"""

from __future__ import annotations

import numpy as np

from sensorimotor.hardware.car import car_spec
from sensorimotor.hardware.robot import RobotError
from sensorimotor.hardware.sim_robot import SimRobot
from sensorimotor.hardware.spec import RobotSpec


def sim_car_spec(env_id: str, max_throttle: float = 1.0) -> RobotSpec:
    """The spec ``serve --robot sim-car:<driving id>`` serves for a driving task's camera and rate
    (the same for a task's train and test ids, so a policy exported from a run fits both)."""
    config = _driving_config(env_id)
    camera = config.camera
    return car_spec(name="sim-car", max_throttle=max_throttle, control_period_s=config.control_period,
                    camera=(camera.height_px, camera.width))


def _driving_config(env_id: str):
    from sensorimotor.envs.registry import spec
    from sensorimotor.sim.pybullet.driving import variant_config

    if "driving" not in spec(env_id).tags:
        raise RobotError(f"{env_id} is not a driving task: sim-car serves the RacecarDrive* ids")
    return variant_config(env_id)


class SimCar(SimRobot):
    """Args:
        env_id: a driving task id (``RacecarDrive-Test-v0``...).
        seed: seed of the first episode (the held-out track ``seed % 20`` for the test ids).
        max_throttle: the spec's speed limit (share of the task's ``speed``).
        **options: task options, as for ``make(env_id, **options)`` (``laps``, ``interventions``...).
    """

    def __init__(self, env_id: str = "RacecarDrive-Test-v0", seed: int | None = 0, max_throttle: float = 1.0,
                 **options):
        from sensorimotor.envs import make

        _driving_config(env_id)  # a RobotError for ids that are not driving tasks
        self.env_id, self.seed = env_id, seed
        self.env = make(env_id, throttle=True, **options)
        self.task = self.env.unwrapped
        camera = self.task.config.camera
        self.spec = car_spec(name="sim-car", max_throttle=max_throttle, control_period_s=self.task.config.control_period,
                             camera=(camera.height_px, camera.width))
        self.camera = None  # frames come from the task's own camera (observe), not env.render()
        self._connected, self._obs, self._fresh = False, None, False
        self._reward, self._terminated, self._truncated = 0.0, False, False
        self.episode_return, self.episode_returns = 0.0, []
        self._applied = np.zeros(2)
        self._info: dict = {}

    def new_episode(self, seed: int | None = None) -> dict[str, np.ndarray]:
        if not (self._fresh and seed is None):
            self._applied = np.zeros(2)
        return super().new_episode(seed)

    def observe(self) -> dict[str, np.ndarray]:
        if not self._connected:
            raise RobotError(f"{self.spec.name} is not connected: call connect() first")
        info = self._info if not self._fresh else {}
        out = {"position": self._applied.copy(), "speed": np.array([self.task.scene.car_speed()]),
               "camera": np.ascontiguousarray(self.task.camera_image()),
               "reward": np.array([self._reward]), "terminated": np.array([float(self._terminated)]),
               "truncated": np.array([float(self._truncated)]),
               "episode_return": np.array([self.episode_return])}
        for key in ("cross_track_error", "progress", "interventions"):
            out[key] = np.array([float(info.get(key, 0.0))])
        return out

    def send_action(self, action: np.ndarray) -> np.ndarray:
        if not self._connected:
            raise RobotError(f"{self.spec.name} is not connected: call connect() first")
        action = np.asarray(action, dtype=np.float64)
        if action.shape != (2,) or not np.all(np.isfinite(action)):
            raise RobotError(f"driver refused action {action!r}")
        if self._terminated or self._truncated:
            self._reward = 0.0  # the episode is over: the car stands until new_episode
            self._applied = np.zeros(2)
            return self._applied.copy()
        self._fresh = False
        self._obs, reward, self._terminated, self._truncated, self._info = self.env.step(action.astype(np.float32))
        self._reward = float(reward)
        self.episode_return += self._reward
        if self._terminated or self._truncated:
            self.episode_returns.append(self.episode_return)
        self._applied = action.copy()
        return action
