"""``SimGraspArm``: the grasping world's Kuka served as a Cartesian arm, camera frames included.

Its :func:`grasp_arm_spec` is Cartesian: the "joints" are the end effector's ``x``, ``y``, ``z``
(metres, limited to the tray's workspace box), the gripper's ``yaw`` (rad) and the ``gripper``
(normalized: 0 open, 1 closed; it closes above 0.5). Goals are absolute end-effector targets with
``position`` semantics, so the server's safety layer clamps every goal to the workspace box and to
the per-step travel of the task (6 cm and 0.25 rad per control period) from the measured pose. A
policy trained on the task's deltas becomes goals on the client side: ``measured + delta * scale``.

Each state carries ``position`` ``[5]`` (measured x, y, z, yaw, gripper), ``camera`` ``[H, W, 3]``
uint8 (the task's observation camera) and ``lifted`` ``[1]`` (an object held above the success
height), so that a client can score grasps.
"""

from __future__ import annotations

import math

import numpy as np

from sensorimotor.hardware.robot import Robot, RobotError
from sensorimotor.hardware.spec import CameraSpec, JointSpec, RobotSpec

GRIPPER_CLOSES_ABOVE = 0.5


def grasp_arm_spec(config) -> RobotSpec:
    """The Cartesian spec of a grasping task's arm (``GraspTaskConfig``)."""
    from sensorimotor.sim.pybullet.grasping.scene import HOME_END_EFFECTOR, WORKSPACE_HIGH, WORKSPACE_LOW

    period = config.physics.steps_per_action * config.physics.time_step
    joints = tuple(JointSpec(axis, unit="m", lower=lo, upper=hi, max_velocity=config.move_scale / period)
                   for axis, lo, hi in zip("xyz", WORKSPACE_LOW, WORKSPACE_HIGH))
    joints += (JointSpec("yaw", unit="rad", lower=-math.pi, upper=math.pi, max_velocity=config.yaw_scale / period),
               JointSpec("gripper", unit="normalized", lower=0.0, upper=1.0, max_velocity=1.0 / period))
    camera = config.camera
    return RobotSpec(name="sim-kuka-grasp", joints=joints, action="position", control_period_s=period,
                     observation=(("position", 5), ("lifted", 1)), workspace_low=tuple(WORKSPACE_LOW),
                     workspace_high=tuple(WORKSPACE_HIGH), park=(*HOME_END_EFFECTOR, 0.0, 0.0),
                     cameras=(CameraSpec("camera", camera.height, camera.width),))


class SimGraspArm(Robot):
    """Args:
        env_id: a grasping task id (``KukaGrasp-v0``, ``KukaGraspCube-v0``...).
        seed: seed of the first episode.
        **options: task options, as for ``make(env_id, **options)``.
    """

    episodic = True

    def __init__(self, env_id: str = "KukaGrasp-v0", seed: int | None = 0, **options):
        from sensorimotor.envs import make

        self.env = make(env_id, **options)
        self.task = self.env.unwrapped
        if not hasattr(self.task, "scene") or not hasattr(self.task, "camera_image"):
            self.env.close()
            raise RobotError(f"{env_id} is not a grasping task: sim-arm serves the Kuka* ids")
        self.spec = grasp_arm_spec(self.task.config)
        self.seed = seed
        self._connected = False

    def connect(self) -> None:
        self._connected = True
        self.new_episode(seed=self.seed)

    def disconnect(self) -> None:
        self._connected = False

    @property
    def is_connected(self) -> bool:
        return self._connected

    def new_episode(self, seed: int | None = None) -> dict[str, np.ndarray]:
        self.env.reset(seed=seed)
        return self.observe()

    def observe(self) -> dict[str, np.ndarray]:
        if not self._connected:
            raise RobotError(f"{self.spec.name} is not connected: call connect() first")
        scene = self.task.scene
        position = np.array([*scene.end_effector(), scene.gripper_yaw(), float(scene.gripper_closed)])
        return {"position": position, "lifted": np.array([float(self.task.lifted())]),
                "camera": np.ascontiguousarray(self.task.camera_image())}

    def send_action(self, action: np.ndarray) -> np.ndarray:
        if not self._connected:
            raise RobotError(f"{self.spec.name} is not connected: call connect() first")
        action = np.asarray(action, dtype=np.float64)
        if action.shape != (5,) or not np.all(np.isfinite(action)):
            raise RobotError(f"driver refused action {action!r}")
        closed = bool(action[4] > GRIPPER_CLOSES_ABOVE)
        scene = self.task.scene
        closing = closed and not scene.gripper_closed
        scene.move_to(action[:3], float(action[3]), closed and not closing)
        if closing:  # squeeze gradually, as the task does: fingers shut at once slap small objects away
            scene.close_gripper()
        return action

    def forward_kinematics(self, position: np.ndarray) -> np.ndarray:
        """Cartesian: the end effector is the first three entries."""
        return np.asarray(position[:3], dtype=np.float64)

    def close(self) -> None:
        self.env.close()
