"""``RacecarDrive``: keep PyBullet's racecar on a procedurally generated road, seen by one front camera.

PilotNet's setting (Bojarski et al. 2016) in simulation: one forward camera, steering only, a road
the car has never seen. Configuration: :class:`~sensorimotor.sim.pybullet.driving.config.DriveTaskConfig`.

Observation: ``Box(0, 255, [3, H, W], uint8)``, the front camera's RGB image, channels first (200 x 66
by default, PilotNet's size; 64 x 64 in the ``64`` variants).

Action: ``Box(-1, 1, [1])``, steering (x 0.5 rad, positive turns left); the rear wheels hold
``speed`` m/s. With ``throttle``: ``Box(-1, 1, [2])``, steering and throttle (the wheels turn at
``speed`` x throttle; zero or less brakes). Actions are clipped.

Reward: metres of progress along the centre line this step (negative when driving backwards) minus
``cross_track_penalty`` x |cross-track error| (m) x the control period (s).

Termination: ``terminated`` when the car's centre leaves the road (|cross-track error| > width / 2);
``truncated`` after ``laps`` laps or a time budget of 1.5x the laps at ``speed``. With
``interventions``, leaving the intervention band recentres the car instead of ending the episode.

Info (dense in the vector backends): ``cross_track_error`` (m, > 0 left of the centre line),
``heading_error`` (rad), ``progress`` (laps driven), ``interventions`` (count this episode),
``expert_action`` (pure pursuit's action for the returned observation: the DAgger label).

Versions: v0 (this one).
"""

from __future__ import annotations

import math
from dataclasses import replace

import gymnasium as gym
import numpy as np

from sensorimotor.errors import check
from sensorimotor.sim.pybullet.driving.config import DriveTaskConfig
from sensorimotor.sim.pybullet.driving.expert import pure_pursuit
from sensorimotor.sim.pybullet.driving.scene import MAX_STEERING, DriveScene
from sensorimotor.sim.pybullet.driving.track import Track, generate_track

INFO_KEYS = {"cross_track_error": "float32", "heading_error": "float32", "progress": "float32",
             "interventions": "int32", "expert_action": "float32"}
TRAIN_STREAM, TEST_STREAM = 0, 1  # seed-sequence prefixes: no training track is drawn from the test stream
GRASS, ROAD, LINE = np.array([0.30, 0.45, 0.25]), np.array([0.30, 0.30, 0.32]), np.array([0.95, 0.95, 0.95])


def wrap_angle(angle: float) -> float:
    """``angle`` in [-pi, pi)."""
    return (angle + math.pi) % (2 * math.pi) - math.pi


class DriveEnv(gym.Env):
    metadata = {"render_modes": ["rgb_array"], "render_fps": 20, "info_keys": INFO_KEYS,
                "observation_info_keys": ("expert_action",)}

    def __init__(self, config: DriveTaskConfig = DriveTaskConfig(), render_mode: str | None = None):
        config.validate()
        self.config, self.render_mode = config, render_mode
        c = config.camera
        self.observation_space = gym.spaces.Box(0, 255, (3, c.height_px, c.width), np.uint8)
        self.action_space = gym.spaces.Box(-1.0, 1.0, (2 if config.throttle else 1,), np.float32)
        self.metadata = {**self.metadata, "render_fps": config.physics.control_hz}
        self.scene = DriveScene(config.physics)
        self._rng = np.random.default_rng()
        self.track: Track | None = None
        self._track_key = None
        self._episodes_on_track = 0
        self._camera, self._light = c, None
        self._hint, self._s, self._progress, self._steps, self._interventions = None, 0.0, 0.0, 0, 0

    # -- episodes -------------------------------------------------------------------------------
    def reset(self, *, seed: int | None = None, options: dict | None = None):
        check(seed is None or (isinstance(seed, (int, np.integer)) and 0 <= seed < 2**63),
              f"seed must be an integer in [0, 2**63), got {seed!r}.")
        super().reset(seed=seed)
        cfg = self.config
        if seed is not None:
            self._rng = np.random.default_rng(seed)
        if cfg.split == "test":  # seed s drives track s % n; unseeded resets take the next track in turn
            index = int(seed % cfg.test_tracks) if seed is not None else (self._track_key[1] + 1) % cfg.test_tracks \
                if self._track_key is not None else 0
            key = (TEST_STREAM, index)
            # A held-out track is one fixed scenario: its look, light and camera jitter come from its
            # index, so seed k in process and the k-th reset of a served car drive the same thing.
            self._rng = np.random.default_rng([TEST_STREAM, index])
        elif seed is not None or self.track is None or self._episodes_on_track >= cfg.episodes_per_track:
            key = (TRAIN_STREAM, int(self._rng.integers(2**62)))
        else:
            key = self._track_key
        if key != self._track_key or seed is not None:
            self._build(key)
        self._episodes_on_track += 1
        self._start_episode()
        return self._observe(), self._info()

    def step(self, action):
        cfg = self.config
        action = np.clip(np.asarray(action, dtype=np.float64).reshape(-1), -1.0, 1.0)
        speed = cfg.speed * max(float(action[1]), 0.0) if cfg.throttle else cfg.speed
        self.scene.drive(float(action[0]) * MAX_STEERING, speed)
        self._steps += 1
        position, _ = self.scene.car_pose()
        foot = self.track.project(position[:2], self._hint)
        half_length = self.track.length / 2
        advance = (foot.s - self._s + half_length) % self.track.length - half_length
        self._hint, self._s = foot.index, foot.s
        self._progress += advance / self.track.length
        cross = abs(foot.cross_track)
        reward = advance - cfg.cross_track_penalty * cross * cfg.control_period
        terminated = False
        if cfg.interventions and cross > cfg.intervention_fraction * self.track.width:
            self._interventions += 1
            self._recentre()
            foot = None  # the car moved: info projects its new pose
        elif not cfg.interventions and cross > self.track.width / 2:
            terminated = True
        truncated = not terminated and (self._progress >= cfg.laps or self._steps >= self._step_budget)
        return self._observe(), float(reward), terminated, truncated, self._info(foot)

    def render(self):
        """The front camera enlarged beside a top-down view around the car, ``[H, W, 3]`` uint8."""
        if self.render_mode != "rgb_array":
            return None
        k = self.config.render_scale
        front = np.repeat(np.repeat(self.camera_image(), k, axis=0), k, axis=1)
        position, _ = self.scene.car_pose()
        side = front.shape[0] if front.shape[0] >= 96 else 96 * k
        top = self.scene.render_top_down(position[:2], side, span=6.0)
        if front.shape[0] < side:
            front = np.pad(front, ((0, side - front.shape[0]), (0, 0), (0, 0)))
        return np.concatenate([front, top], axis=1)

    def close(self):
        self.scene.close()

    # -- world ----------------------------------------------------------------------------------
    def _build(self, key: tuple[int, int]) -> None:
        """A world around track ``key`` (seed stream, index) with a freshly drawn look."""
        cfg, rng = self.config, self._rng
        self.track = generate_track(np.random.default_rng(list(key)), cfg.track)
        jitter = cfg.appearance.color_jitter

        def color(base):
            return [*np.clip(base + rng.uniform(-jitter, jitter, 3), 0, 1), 1.0]

        self.scene.build(self.track, color(GRASS), color(ROAD), color(LINE))
        self._track_key, self._episodes_on_track = key, 0

    def _start_episode(self) -> None:
        cfg, rng, track = self.config, self._rng, self.track
        if cfg.split == "train":
            s = rng.uniform(0, track.length)
            lateral, turn = rng.uniform(-1, 1, 2) * cfg.start_offset
        else:
            s, lateral, turn = 0.0, 0.0, 0.0
        xy, heading = track.pose_at(s, lateral)
        self.scene.place_car(xy, heading + turn)
        look = cfg.appearance
        self._camera = replace(cfg.camera, height=cfg.camera.height + rng.uniform(-1, 1) * look.camera_height,
                               pitch=cfg.camera.pitch + rng.uniform(-1, 1) * look.camera_pitch)
        self._light = None if look.light_jitter == 0 else \
            tuple(np.array([0.4, -0.4, 1.0]) + rng.uniform(-1, 1, 3) * look.light_jitter)
        foot = track.project(xy)
        self._hint, self._s, self._progress, self._steps, self._interventions = foot.index, foot.s, 0.0, 0, 0
        # 1.5x the time the laps take at speed: a car that stalls or circles ends by truncation.
        self._step_budget = int(1.5 * cfg.laps * track.length / (cfg.speed * cfg.control_period)) + 20

    def _recentre(self) -> None:
        """The expert's take-over: the car back on the centre line at its foot point, heading along it."""
        xy, heading = self.track.pose_at(self._s)
        self.scene.place_car(xy, heading)

    def _observe(self) -> np.ndarray:
        return np.ascontiguousarray(self.camera_image().transpose(2, 0, 1))

    def camera_image(self) -> np.ndarray:
        """The front camera's current view ``[H, W, 3]`` uint8 (what a served car streams)."""
        position, yaw = self.scene.car_pose()
        return self.scene.render(self._camera, position[:2], yaw, self._light)

    def _info(self, foot=None) -> dict:
        """``foot``: the car's projection when the caller has it for the current pose (one per step)."""
        position, yaw = self.scene.car_pose()
        foot = foot if foot is not None else self.track.project(position[:2], self._hint)
        return {"cross_track_error": np.float32(foot.cross_track),
                "heading_error": np.float32(wrap_angle(yaw - foot.heading)),
                "progress": np.float32(self._progress), "interventions": np.int32(self._interventions),
                "expert_action": np.float32(pure_pursuit(self.track, position[:2], yaw, foot.index))}

    # -- privileged state (the expert, augmentation, tests; never part of the observation) -------
    def expert_action(self) -> np.ndarray:
        """Pure pursuit's action now, ``[1]`` float32 (``[2]`` with full throttle when ``throttle``): the
        demonstrator of ``sensorimotor collect``."""
        position, yaw = self.scene.car_pose()
        steering = pure_pursuit(self.track, position[:2], yaw, self._hint)
        return np.array([steering, 1.0] if self.config.throttle else [steering], np.float32)

    def augmented_views(self, count: int, max_shift: float = 0.25, max_rotation: float = 0.25,
                        rng: np.random.Generator | None = None) -> tuple[np.ndarray, np.ndarray]:
        """PilotNet's augmentation done in the simulator: ``count`` views from the camera moved up to
        ``max_shift`` m sideways and turned up to ``max_rotation`` rad, each labelled with the expert's
        steering from that pose. Returns ``(pixels [K, 3, H, W] uint8, actions [K, 1] float32)``."""
        rng = self._rng if rng is None else rng
        position, yaw = self.scene.car_pose()
        foot = self.track.project(position[:2], self._hint)
        normal = self.track.normal[foot.index]
        pixels = np.empty((count, *self.observation_space.shape), np.uint8)
        actions = np.empty((count, 1), np.float32)
        shifts = rng.uniform(-max_shift, max_shift, count)
        turns = rng.uniform(-max_rotation, max_rotation, count)
        for k in range(count):
            xy, heading = position[:2] + shifts[k] * normal, yaw + turns[k]
            pixels[k] = self.scene.render(self._camera, xy, heading, self._light).transpose(2, 0, 1)
            actions[k, 0] = pure_pursuit(self.track, xy, heading, foot.index)
        return pixels, actions

    def privileged(self) -> dict:
        """Ground truth: car position ``[3]`` (m), yaw (rad), speed (m/s), arc length ``s`` (m), the
        track's length and width (m)."""
        position, yaw = self.scene.car_pose()
        return {"position": position, "yaw": np.float64(yaw), "speed": np.float64(self.scene.car_speed()),
                "s": np.float64(self._s), "track_length": np.float64(self.track.length),
                "track_width": np.float64(self.track.width)}

    @property
    def dt(self) -> float:
        """Seconds per action (the control period; exports and served cars read it)."""
        return self.config.control_period

    @property
    def elapsed_seconds(self) -> float:
        """Simulated time of this episode (s)."""
        return self._steps * self.config.control_period
