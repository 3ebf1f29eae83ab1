"""The grasping task's settings: one frozen dataclass, each variant a named value of it."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Literal

from sensorimotor.errors import check
from sensorimotor.sim.pybullet.camera import CameraConfig
from sensorimotor.sim.pybullet.grasping.objects import SPLITS
from sensorimotor.sim.pybullet.grasping.scene import PhysicsConfig
from sensorimotor.sim.pybullet.randomization import FULL_RANDOMIZATION, RandomizationConfig

# QT-Opt's over-the-shoulder view (also KukaDiverseObjectEnv's).
QTOPT_CAMERA = CameraConfig(target=(0.23, 0.2, 0.54), distance=1.0, yaw=245.0, pitch=-56.0, fov=20.0, width=64,
                            height=64)


@dataclass(frozen=True)
class GraspTaskConfig:
    """One grasping task.

    Attributes:
        objects: ``train`` (900 random_urdfs), ``test`` (the 100 held out) or ``cube``.
        num_objects: objects in the tray (1..10).
        layout: ``qtopt``: action (dx, dy, dz, dyaw, gripper, terminate), the policy closes the gripper
            (> 0) and ends the episode (terminate > 0), after which the arm lifts and success is
            judged; ``auto``: action (dx, dy, dz, dyaw) or (dx, dy, dyaw), and the gripper closes and
            lifts by itself once the end effector is at or below ``auto_grasp_height`` (Quillen et al.).
        descend_each_step: ``auto`` only: the gripper moves down one full step every step and the
            action has no dz (KukaDiverseObjectEnv's "height hack").
        max_steps: control steps per episode at most; the last one ends like a terminate.
        move_scale: end-effector travel per step at action 1 (m).
        yaw_scale: gripper rotation per step at action 1 (rad).
        auto_grasp_height: ``auto`` only: end-effector height (m, world, link 6's frame) that
            triggers the grasp (the original's 0.1 m measured at the link's centre of mass, 2 cm lower).
        auto_grasp_target: ``auto`` only: the end effector's target height (m) is set to this before
            the fingers close (``None``: they close where the gripper is). A 5 cm cube needs the
            fingers higher than the small random objects.
        success_height: an object counts as lifted when its lowest point is this far above the tray
            floor after the final lift (m).
        step_penalty: subtracted from the reward at every step (0 gives QT-Opt's sparse reward).
        targeted: only objects of the target colour (red) count; objects are recoloured from a palette.
        camera: the observation camera (size, pose, field of view, depth).
        physics: solver and servo settings, physics steps per action and for the grasp.
        randomization: domain randomization ranges.
        reset_mode: ``pool``: reset by restoring one of up to ``pool_size`` settled layouts of the
            current objects (0.05 ms; not bitwise reproducible, bullet3 #2982); ``fresh``: rebuild and
            settle the world at every reset (tens of ms; the same seed gives bitwise-equal rollouts).
        pool_size: settled layouts kept per object set (``pool``); a new object set starts with one
            and each following reset adds one until the pool is full, so the settling is spread over
            the episodes instead of stalling one reset.
        swap_objects_every: episodes between new object sets (``pool``); ``fresh`` draws new objects
            every episode.
        render_size: side of ``render()``'s RGB frames (pixels).
    """

    objects: Literal["train", "test", "cube"] = "train"
    num_objects: int = 5
    layout: Literal["qtopt", "auto"] = "qtopt"
    descend_each_step: bool = False
    max_steps: int = 15
    move_scale: float = 0.06
    yaw_scale: float = 0.25
    auto_grasp_height: float = 0.12
    auto_grasp_target: float | None = None
    success_height: float = 0.1
    step_penalty: float = 0.0
    targeted: bool = False
    camera: CameraConfig = QTOPT_CAMERA
    physics: PhysicsConfig = field(default_factory=PhysicsConfig)
    randomization: RandomizationConfig = field(default_factory=RandomizationConfig)
    reset_mode: Literal["pool", "fresh"] = "pool"
    pool_size: int = 8
    swap_objects_every: int = 64
    render_size: int = 256

    @property
    def action_size(self) -> int:
        if self.layout == "qtopt":
            return 6
        return 3 if self.descend_each_step else 4

    def validate(self) -> None:
        """Raise :class:`UserError` with one line for a value out of range."""
        check(self.objects in SPLITS, f"objects must be one of {SPLITS}, got {self.objects!r}.")
        check(1 <= self.num_objects <= 10, f"num_objects must be 1..10, got {self.num_objects}.")
        check(self.layout in ("qtopt", "auto"), f"layout must be 'qtopt' or 'auto', got {self.layout!r}.")
        check(not (self.descend_each_step and self.layout == "qtopt"), "descend_each_step needs layout='auto'.")
        check(1 <= self.max_steps <= 100, f"max_steps must be 1..100, got {self.max_steps}.")
        check(0 < self.move_scale <= 0.2, f"move_scale must be in (0, 0.2] m, got {self.move_scale}.")
        check(0 <= self.yaw_scale <= 1.0, f"yaw_scale must be in [0, 1] rad, got {self.yaw_scale}.")
        check(0 < self.success_height <= 0.3, f"success_height must be in (0, 0.3] m, got {self.success_height}.")
        check(1 <= self.pool_size <= 256, f"pool_size must be 1..256, got {self.pool_size}.")
        check(1 <= self.swap_objects_every, f"swap_objects_every must be >= 1, got {self.swap_objects_every}.")
        check(16 <= self.render_size <= 1024, f"render_size must be 16..1024, got {self.render_size}.")
        check(self.reset_mode in ("pool", "fresh"), f"reset_mode must be 'pool' or 'fresh', got {self.reset_mode!r}.")
        ph = self.physics
        check(1 <= ph.steps_per_action <= 500 and 1 <= ph.solver_iterations <= 1000,
              "physics.steps_per_action must be 1..500 and physics.solver_iterations 1..1000.")
        self.camera.validate()
        self.randomization.validate()


# The registered variants (see __init__.py for their ids).
GRASP = GraspTaskConfig()
GRASP_AUTO = GraspTaskConfig(layout="auto", descend_each_step=True, max_steps=8)
GRASP_CUBE = GraspTaskConfig(objects="cube", num_objects=1, layout="auto", descend_each_step=True, max_steps=8,
                             auto_grasp_target=0.12)
GRASP_TARGETED = GraspTaskConfig(targeted=True)
GRASP_RANDOMIZED = GraspTaskConfig(randomization=FULL_RANDOMIZATION)
# The original KukaDiverseObjectEnv's physics and camera (80 physics steps per action, 150 solver
# iterations, 48x48), for the same-settings benchmark row; the grasp routine and servos stay ours.
GRASP_ORIGINAL_SETTINGS = replace(GRASP_AUTO, physics=PhysicsConfig(solver_iterations=150, steps_per_action=80),
                                  camera=replace(QTOPT_CAMERA, width=48, height=48))
