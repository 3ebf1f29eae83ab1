"""``KukaGrasp``: grasp an object from a tray, seen through one over-the-shoulder camera.

A Kuka iiwa with a two-finger gripper over a tray of objects (QT-Opt, Kalashnikov et al. 2018;
Quillen et al. 2018). Configuration: :class:`~sensorimotor.sim.pybullet.grasping.config.GraspTaskConfig`.

Observations (``Dict``):

| key      | shape          | dtype   | meaning                                                           |
|----------|----------------|---------|-------------------------------------------------------------------|
| `pixels` | `[3, H, W]`    | uint8   | RGB camera image, channels first (64x64 by default)               |
| `state`  | `[3]`          | float32 | gripper closed (0/1), gripper height above the tray floor (m), step index / max_steps |
| `depth`  | `[1, H, W]`    | float32 | metres along the view axis (only with ``camera.depth``)           |

Actions (``Box`` in [-1, 1], clipped):

| layout               | components                                                                     |
|----------------------|--------------------------------------------------------------------------------|
| `qtopt`              | dx, dy, dz (x 6 cm), dyaw (x 0.25 rad), gripper (> 0 closes), terminate (> 0 ends) |
| `auto`               | dx, dy, dz, dyaw; the grasp starts itself at or below `auto_grasp_height`      |
| `auto` + descend     | dx, dy, dyaw; dz is always -6 cm ("height hack")                               |

Reward: 1 at the final step if an object (of the target colour, in the targeted variant) is lifted
``success_height`` above the tray floor, else 0; minus ``step_penalty`` every step.
``info["grasp_success"]`` says the same as a bool at every step (False before the end).

Termination: the episode ends after the final lift: on terminate (``qtopt``), after the automatic
grasp (``auto``) or at ``max_steps``. All endings are ``terminated`` (the step index is observed, so
the time limit is part of the state, as in QT-Opt); ``truncated`` is never set.

Versions: v0 (this one).
"""

from __future__ import annotations

import gymnasium as gym
import numpy as np

from sensorimotor.errors import check
from sensorimotor.sim.pybullet import randomization
from sensorimotor.sim.pybullet.camera import Camera
from sensorimotor.sim.pybullet.grasping import objects as object_sets
from sensorimotor.sim.pybullet.grasping.config import GraspTaskConfig
from sensorimotor.sim.pybullet.grasping.scene import TRAY_FLOOR_Z, GraspScene


class GraspEnv(gym.Env):
    metadata = {"render_modes": ["rgb_array"], "render_fps": 10, "info_keys": {"grasp_success": "bool"}}

    def __init__(self, config: GraspTaskConfig = GraspTaskConfig(), render_mode: str | None = None):
        config.validate()
        self.config, self.render_mode = config, render_mode
        c = config.camera
        spaces = {
            "pixels": gym.spaces.Box(0, 255, (3, c.height, c.width), np.uint8),
            "state": gym.spaces.Box(np.array([0.0, -1.0, 0.0], np.float32), np.array([1.0, 1.0, 1.0], np.float32),
                                    dtype=np.float32),
        }
        if c.depth:
            spaces["depth"] = gym.spaces.Box(0.0, c.far, (1, c.height, c.width), np.float32)
        self.observation_space = gym.spaces.Dict(spaces)
        self.action_space = gym.spaces.Box(-1.0, 1.0, (config.action_size,), np.float32)
        self.scene = GraspScene(config.physics)
        self._rng = np.random.default_rng()
        self._pool: list[int] = []
        self._episodes_on_objects = 0
        self._is_target = np.ones(0, dtype=bool)
        self._camera = self._render_camera = None
        self._steps = 0
        self._expert = None

    # -- episodes -------------------------------------------------------------------------------
    def reset(self, *, seed: int | None = None, options: dict | None = None):
        check(seed is None or (isinstance(seed, (int, np.integer)) and 0 <= seed < 2**63),
              f"seed must be an integer in [0, 2**63), got {seed!r}.")
        super().reset(seed=seed)
        if seed is not None:
            self._rng = np.random.default_rng(seed)
        cfg = self.config
        if cfg.reset_mode == "fresh":
            self._new_objects(settle=True)
        else:
            if seed is not None or not self._pool or self._episodes_on_objects >= cfg.swap_objects_every:
                self._new_objects(settle=False)
                self._add_layout()
            elif len(self._pool) < cfg.pool_size:
                self._add_layout()  # the pool grows one layout per episode: no long pause at a swap
            self.scene.restore(self._pool[int(self._rng.integers(len(self._pool)))])
        self._episodes_on_objects += 1
        self._draw_camera()
        self._steps = 0
        return self._observation(), {"grasp_success": False}

    def step(self, action):
        cfg, scene = self.config, self.scene
        a = np.clip(np.asarray(action, dtype=np.float64).reshape(cfg.action_size), -1.0, 1.0)
        self._steps += 1
        at_limit = self._steps >= cfg.max_steps
        if cfg.layout == "qtopt":
            close = bool(a[4] > 0)
            # A closing command moves first, then squeezes gradually (``close_gripper``): fingers shut
            # within one move slap small objects away.
            scene.move(a[:3] * cfg.move_scale, a[3] * cfg.yaw_scale, closed=close and scene.gripper_closed)
            if close and not scene.gripper_closed:
                scene.close_gripper()
            done = bool(a[5] > 0) or at_limit
            if done:
                scene.lift()
        else:
            dz = -1.0 if cfg.descend_each_step else a[2]
            dyaw = a[-1]
            scene.move(np.array([a[0], a[1], dz]) * cfg.move_scale, dyaw * cfg.yaw_scale, closed=False)
            grasp = scene.end_effector()[2] <= cfg.auto_grasp_height
            if grasp:
                if cfg.auto_grasp_target is not None:
                    scene.hold_at_height(cfg.auto_grasp_target)
                scene.close_gripper()
                scene.lift()
            done = grasp or at_limit
        success = done and self.lifted()
        reward = float(success) - cfg.step_penalty
        return self._observation(), reward, done, False, {"grasp_success": success}

    def render(self):
        if self.render_mode != "rgb_array":
            return None
        return self._render_camera.render(self.scene.client)[0]

    def close(self):
        self.scene.close()

    # -- world ----------------------------------------------------------------------------------
    def _new_objects(self, settle: bool) -> None:
        """A fresh world with a new object set, randomized; settled when ``settle``."""
        cfg, scene, rng = self.config, self.scene, self._rng
        self._pool.clear()  # resetSimulation drops every saved state
        files = object_sets.choose_objects(cfg.objects, cfg.num_objects, rng)
        scene.build(files, object_sets.drop_poses(cfg.num_objects, rng))
        colors = None
        self._is_target = np.ones(cfg.num_objects, dtype=bool)
        if cfg.targeted:
            colors, self._is_target = object_sets.target_colors(cfg.num_objects, rng)
        randomization.apply_to_bodies(scene.client, cfg.randomization, rng, scene.objects, [scene.tray, scene.table],
                                      colors)
        self._episodes_on_objects = 0
        if settle:
            scene.settle()

    def _add_layout(self) -> None:
        """One more settled layout of the current objects in the pool, saved with the arm at home."""
        scene = self.scene
        scene.place_objects(object_sets.drop_poses(len(scene.objects), self._rng))
        scene.home_arm()
        scene.settle()
        self._pool.append(scene.save())

    def _draw_camera(self) -> None:
        cfg, rng = self.config, self._rng
        r = cfg.randomization
        camera = cfg.camera.jittered(rng, r.camera_angle_deg, r.camera_fov_deg)
        light = randomization.light_direction(r, rng)
        self._camera = Camera(camera, light)
        if self.render_mode == "rgb_array":
            from dataclasses import replace

            self._render_camera = Camera(replace(camera, width=cfg.render_size, height=cfg.render_size, depth=False),
                                         light)

    def camera_image(self) -> np.ndarray:
        """The observation camera's current view ``[H, W, 3]`` uint8 (what a served arm streams)."""
        return self._camera.render(self.scene.client)[0]

    def lifted(self) -> bool:
        """Is an object (of the target colour, when targeted) held above the success height now?"""
        lifted = self.scene.object_bottoms() > TRAY_FLOOR_Z + self.config.success_height
        return bool((lifted & self._is_target).any())

    def _observation(self) -> dict[str, np.ndarray]:
        rgb, depth = self._camera.render(self.scene.client)
        height = self.scene.end_effector()[2] - TRAY_FLOOR_Z
        state = np.array([float(self.scene.gripper_closed), height, self._steps / self.config.max_steps], np.float32)
        observation = {"pixels": np.ascontiguousarray(rgb.transpose(2, 0, 1)), "state": state}
        if depth is not None:
            observation["depth"] = np.minimum(depth, self.config.camera.far)[None]
        return observation

    # -- privileged state (scripted policies, tests; never part of the observation) -------------
    def expert_action(self) -> np.ndarray:
        """The scripted grasper's action now (``[A]`` float32): the demonstrator of ``sensorimotor
        collect --policy expert`` and of exploration; it reads :meth:`privileged`."""
        if self._expert is None:
            from sensorimotor.sim.pybullet.grasping.scripted import ScriptedGrasper

            self._expert = ScriptedGrasper(self.config)
        return self._expert.act(self.privileged())

    def privileged(self) -> dict[str, np.ndarray]:
        """Ground truth for scripted experts: end effector ``[3]``, its target ``[3]``, gripper yaw,
        object positions ``[K, 3]``, yaws ``[K]``, bounding boxes ``[K, 2, 3]``, which are targets ``[K]``."""
        s = self.scene
        return {"end_effector": s.end_effector(), "target": np.asarray(s.target), "yaw": np.float64(s.yaw),
                "object_positions": s.object_positions(), "object_yaws": s.object_yaws(), "object_boxes": s.object_boxes(),
                "is_target": self._is_target.copy(), "steps": np.int64(self._steps),
                "gripper_closed": np.bool_(s.gripper_closed)}
