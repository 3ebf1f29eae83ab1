"""The grasping world's physics: a Kuka iiwa with a two-finger gripper over a tray of objects.

Layout follows PyBullet's ``KukaDiverseObjectEnv`` (the QT-Opt / Quillen et al. 2018 setup): table,
tray at (0.64, 0.075, -0.19), the arm's base at (-0.1, 0, 0.07), the end effector (link 6) steered by
inverse kinematics with the gripper pointing down. Units: metres, radians, seconds.

This module knows nothing of rewards or observations (``task.py`` does); it builds, steps, saves and
restores a world, and answers questions about it (where the gripper and objects are).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from sensorimotor.sim.pybullet import client as bullet
from sensorimotor.sim.pybullet.client import import_pybullet

ARM_BASE = (-0.1, 0.0, 0.07)
TRAY_POSITION = (0.64, 0.075, -0.19)
TABLE_POSITION = (0.5, 0.0, -0.82)
# Joint angles of the arm's home pose (kuka_with_gripper2.sdf has 14 joints: 7 arm, gripper yaw 7,
# fingers 8 / 11, finger tips 10 / 13).
HOME_JOINTS = (0.006418, 0.413184, -0.011401, -1.589317, 0.005379, 1.137684, -0.006539, 0.000048,
               -0.299912, 0.0, -0.000043, 0.299960, 0.0, -0.000200)
END_EFFECTOR_LINK = 6
GRIPPER_YAW_JOINT = 7
FINGER_JOINTS = (8, 11)
FINGER_TIP_JOINTS = (10, 13)
HOME_END_EFFECTOR = (0.537, 0.0, 0.5)
# The end effector stays over the tray: the box QT-Opt-style envs clamp to (m).
WORKSPACE_LOW = (0.45, -0.15, 0.05)
WORKSPACE_HIGH = (0.75, 0.25, 0.56)
# Top of the tray's floor (m): a 5 cm cube at rest in the tray has its bottom here.
TRAY_FLOOR_Z = -0.184
FINGER_OPEN = 0.3  # rad, each finger (mirrored)
DOWN = (0.0, -math.pi, 0.0)  # gripper pointing down (Euler)


@dataclass(frozen=True)
class PhysicsConfig:
    """Simulation settings of the grasping world.

    Attributes:
        time_step: physics step (s).
        solver_iterations: Bullet's constraint solver iterations (the original env uses 150; 40 costs
            half as much per step and still holds a grasp: 30 lost 10 points of scripted success).
        steps_per_action: physics steps per control step, 15 Hz control (the original env: 80).
        arm_max_velocity: joint speed limit of the arm's position servos (rad/s).
        arm_position_gain: position gain of the arm's servos.
        settle_steps: physics steps that let dropped objects come to rest.
        close_steps, lift_steps: physics steps of the closing grasp and of the lift after it.
        lift_height: how far the end effector rises in the lift (m).
    """

    time_step: float = 1 / 240
    solver_iterations: int = 40
    steps_per_action: int = 16
    arm_max_velocity: float = 2.0
    arm_position_gain: float = 0.3
    settle_steps: int = 160
    close_steps: int = 40
    lift_steps: int = 48
    lift_height: float = 0.25


class GraspScene:
    """One Bullet client holding the grasping world. Not thread-safe; one per process or per env."""

    def __init__(self, physics: PhysicsConfig):
        self.p = import_pybullet()
        self.physics = physics
        self.client = bullet.connect(physics.time_step, physics.solver_iterations)
        self.arm = self.tray = self.table = -1
        self.objects: list[int] = []
        self.target = list(HOME_END_EFFECTOR)
        self.yaw = 0.0
        self.gripper_closed = False

    # -- building -------------------------------------------------------------------------------
    def build(self, object_files: list[str], poses: list[tuple[tuple, tuple]]) -> None:
        """A fresh world: table, tray, arm at home, ``object_files`` dropped at ``poses`` (not settled)."""
        p, c = self.p, self.client
        p.resetSimulation(physicsClientId=c)
        bullet.configure(c, self.physics.time_step, self.physics.solver_iterations)
        # No floor plane under the table: nothing rests on it, and drawing it costs 20% of a 64x64 frame.
        self.table = p.loadURDF(bullet.asset("table/table.urdf"), TABLE_POSITION, [0, 0, 0, 1], physicsClientId=c)
        self.arm = p.loadSDF(bullet.asset("kuka_iiwa/kuka_with_gripper2.sdf"), physicsClientId=c)[0]
        p.resetBasePositionAndOrientation(self.arm, ARM_BASE, [0, 0, 0, 1], physicsClientId=c)
        self.tray = p.loadURDF(bullet.asset("tray/tray.urdf"), TRAY_POSITION, [0, 0, 1, 0], physicsClientId=c)
        self.objects = [p.loadURDF(path, position, orientation, physicsClientId=c)
                        for path, (position, orientation) in zip(object_files, poses)]
        self.home_arm()

    def home_arm(self) -> None:
        """Arm joints to the home pose, servos holding it, gripper open."""
        p, c = self.p, self.client
        for joint, angle in enumerate(HOME_JOINTS):
            p.resetJointState(self.arm, joint, angle, 0.0, physicsClientId=c)
            p.setJointMotorControl2(self.arm, joint, p.POSITION_CONTROL, targetPosition=angle, force=200.0,
                                    physicsClientId=c)
        self.target = list(HOME_END_EFFECTOR)
        self.yaw = 0.0
        self.gripper_closed = False
        self.command(self.target, self.yaw, closed=False)

    def settle(self, steps: int | None = None) -> None:
        self.step_physics(self.physics.settle_steps if steps is None else steps)

    # -- saving ---------------------------------------------------------------------------------
    def save(self) -> int:
        """An in-memory snapshot id (``restoreState`` 0.05 ms against a 410 ms rebuild)."""
        return self.p.saveState(physicsClientId=self.client)

    def restore(self, state_id: int) -> None:
        """Back to a snapshot taken while the arm was at home; servo targets are not part of a Bullet
        state, so they are issued again."""
        self.p.restoreState(stateId=state_id, physicsClientId=self.client)
        self.target, self.yaw, self.gripper_closed = list(HOME_END_EFFECTOR), 0.0, False
        self.command(self.target, self.yaw, closed=False)

    def forget(self, state_id: int) -> None:
        self.p.removeState(state_id, physicsClientId=self.client)

    # -- control --------------------------------------------------------------------------------
    def command(self, position, yaw: float, closed: bool, finger_angle: float | None = None) -> None:
        """Servo targets for the end effector at ``position`` (m) with gripper ``yaw`` (rad), fingers
        closed or open (``finger_angle`` overrides, rad)."""
        p, c, arm = self.p, self.client, self.arm
        joints = p.calculateInverseKinematics(arm, END_EFFECTOR_LINK, list(position), p.getQuaternionFromEuler(DOWN),
                                              jointDamping=[1e-5] * 14, physicsClientId=c)
        ph = self.physics
        for joint in range(END_EFFECTOR_LINK + 1):
            p.setJointMotorControl2(arm, joint, p.POSITION_CONTROL, targetPosition=joints[joint], targetVelocity=0,
                                    force=200.0, maxVelocity=ph.arm_max_velocity, positionGain=ph.arm_position_gain,
                                    velocityGain=1.0, physicsClientId=c)
        p.setJointMotorControl2(arm, GRIPPER_YAW_JOINT, p.POSITION_CONTROL, targetPosition=yaw, force=200.0,
                                physicsClientId=c)
        angle = (0.0 if closed else FINGER_OPEN) if finger_angle is None else finger_angle
        p.setJointMotorControl2(arm, FINGER_JOINTS[0], p.POSITION_CONTROL, targetPosition=-angle, force=2.0,
                                physicsClientId=c)
        p.setJointMotorControl2(arm, FINGER_JOINTS[1], p.POSITION_CONTROL, targetPosition=angle, force=2.5,
                                physicsClientId=c)
        for joint in FINGER_TIP_JOINTS:
            p.setJointMotorControl2(arm, joint, p.POSITION_CONTROL, targetPosition=0.0, force=2.0, physicsClientId=c)

    def move(self, delta, dyaw: float, closed: bool) -> None:
        """One control step: the target moves by ``delta`` (m, clamped to the workspace) and ``dyaw``
        (rad), then ``steps_per_action`` physics steps run."""
        self.target = [min(max(t + d, lo), hi) for t, d, lo, hi in zip(self.target, delta, WORKSPACE_LOW,
                                                                        WORKSPACE_HIGH)]
        self.yaw = float(np.clip(self.yaw + dyaw, -math.pi, math.pi))
        self.gripper_closed = closed
        self.command(self.target, self.yaw, closed)
        self.step_physics(self.physics.steps_per_action)

    def move_to(self, position, yaw: float, closed: bool) -> None:
        """One control period toward absolute targets: end effector at ``position`` (m, clamped to the
        workspace), gripper ``yaw`` (rad), fingers closed or open."""
        self.target = [min(max(float(t), lo), hi) for t, lo, hi in zip(position, WORKSPACE_LOW, WORKSPACE_HIGH)]
        self.yaw = float(np.clip(yaw, -math.pi, math.pi))
        self.gripper_closed = bool(closed)
        self.command(self.target, self.yaw, self.gripper_closed)
        self.step_physics(self.physics.steps_per_action)

    def gripper_yaw(self) -> float:
        """Measured angle of the gripper's yaw joint (rad)."""
        return float(self.p.getJointState(self.arm, GRIPPER_YAW_JOINT, physicsClientId=self.client)[0])

    def close_gripper(self) -> None:
        """Fingers close gradually where the gripper is (``close_steps`` physics steps), so they squeeze
        the object instead of slapping it away."""
        ph = self.physics
        for k in range(ph.close_steps):
            angle = FINGER_OPEN * max(0.0, 1.0 - (k + 1) / (0.6 * ph.close_steps))
            self.command(self.target, self.yaw, closed=True, finger_angle=angle)
            self.p.stepSimulation(physicsClientId=self.client)
        self.gripper_closed = True

    def hold_at_height(self, z: float, steps: int = 20) -> None:
        """The end effector's target goes to height ``z`` (m) and the arm gets ``steps`` physics steps."""
        self.target = self.target[:2] + [z]
        self.command(self.target, self.yaw, closed=self.gripper_closed)
        self.step_physics(steps)

    def lift(self) -> None:
        """The arm rises by ``lift_height`` with the gripper as it is (``lift_steps`` physics steps)."""
        self.target = self.target[:2] + [self.target[2] + self.physics.lift_height]
        self.command(self.target, self.yaw, closed=self.gripper_closed)
        self.step_physics(self.physics.lift_steps)

    def place_objects(self, poses: list[tuple[tuple, tuple]]) -> None:
        """Objects teleported to ``poses`` at rest (then :meth:`settle` lets them fall)."""
        p, c = self.p, self.client
        for body, (position, orientation) in zip(self.objects, poses):
            p.resetBasePositionAndOrientation(body, position, orientation, physicsClientId=c)
            p.resetBaseVelocity(body, [0, 0, 0], [0, 0, 0], physicsClientId=c)

    def step_physics(self, steps: int) -> None:
        step, c = self.p.stepSimulation, self.client
        for _ in range(steps):
            step(physicsClientId=c)

    # -- queries --------------------------------------------------------------------------------
    def end_effector(self) -> np.ndarray:
        """Measured end-effector position ``[3]`` (m): the frame of link 6, the one IK steers (its
        centre of mass, which the original env reads, hangs 2 cm lower)."""
        state = self.p.getLinkState(self.arm, END_EFFECTOR_LINK, computeForwardKinematics=True,
                                    physicsClientId=self.client)
        return np.asarray(state[4])

    def object_positions(self) -> np.ndarray:
        """Objects' base positions ``[K, 3]`` (m)."""
        get = self.p.getBasePositionAndOrientation
        return np.array([get(b, physicsClientId=self.client)[0] for b in self.objects]).reshape(-1, 3)

    def object_bottoms(self) -> np.ndarray:
        """Lowest point of each object's bounding box ``[K]`` (m)."""
        aabb = self.p.getAABB
        return np.array([aabb(b, physicsClientId=self.client)[0][2] for b in self.objects])

    def object_boxes(self) -> np.ndarray:
        """Each object's axis-aligned bounding box ``[K, 2, 3]`` (low corner, high corner; m)."""
        aabb = self.p.getAABB
        return np.array([aabb(b, physicsClientId=self.client) for b in self.objects]).reshape(-1, 2, 3)

    def object_yaws(self) -> np.ndarray:
        """Objects' yaw angles ``[K]`` (rad)."""
        p, c = self.p, self.client
        return np.array([p.getEulerFromQuaternion(p.getBasePositionAndOrientation(b, physicsClientId=c)[1])[2]
                         for b in self.objects])

    def close(self) -> None:
        bullet.disconnect(self.client)


