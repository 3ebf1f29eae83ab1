"""``SimGraspArm``: the grasping world's Kuka served as a Cartesian arm, camera frames included.

Its :func:`grasp_arm_spec` is Cartesian: the "joints" are the end effector's ``x``, ``y``, ``z``
(metres, limited to the tray's workspace box), the gripper's ``yaw`` (rad) and the ``gripper``
(normalized: 0 open, 1 closed; it closes above 0.5 in the ``qtopt`` layout, by the task's own grasp in
the ``auto`` ones). Goals are absolute end-effector targets with ``position`` semantics, so the
server's safety layer clamps every goal to the workspace box and to twice the task's per-step travel
(12 cm and 0.5 rad per control period) from the measured pose. A policy trained on the task's deltas
becomes goals on the client side (:class:`sensorimotor.hardware.grasp_client.GraspGoals`).

Tasks with the ``qtopt`` action layout add a sixth joint, ``terminate`` (normalized; above 0.5 ends
the episode: the arm lifts and the grasp is scored, QT-Opt's terminate command); its measured value is
always 0.

Episodes follow the task's rules, so that a policy scores the same through the bridge as in process:
the ``auto`` layouts grasp by themselves once the end effector is at or below the task's
``auto_grasp_height`` (close, lift, score), ``qtopt`` ends on ``terminate``, and every layout ends
after ``max_steps`` goals. After the end the arm holds until ``new_episode``.

Each state carries ``position`` (measured x, y, z, yaw, gripper[, terminate]), ``camera`` ``[H, W, 3]``
uint8 (the task's observation camera), ``lifted`` ``[1]`` (an object held above the success height),
and ``reward`` / ``terminated`` / ``truncated`` / ``episode_return`` / ``step`` ``[1]`` to score episodes.
"""

from __future__ import annotations

import math

import numpy as np

from sensorimotor.hardware.robot import Robot, RobotError
from sensorimotor.hardware.spec import CameraSpec, JointSpec, RobotSpec

GRIPPER_CLOSES_ABOVE = 0.5
TRAVEL_LIMIT_PER_TASK_STEP = 2.0  # goals may move this many task steps from the measured pose per period


def grasp_arm_spec(config) -> RobotSpec:
    """The Cartesian spec of a grasping task's arm (``GraspTaskConfig``)."""
    from sensorimotor.sim.pybullet.grasping.scene import HOME_END_EFFECTOR, WORKSPACE_HIGH, WORKSPACE_LOW

    period = config.physics.steps_per_action * config.physics.time_step
    # The safety layer limits each goal's travel from the *measured* pose, which lags the task's
    # commanded pose by a few mm to a few cm (the arm pushing on an object): twice the task's step
    # lets every move the task itself makes through and still stops a runaway goal.
    travel = TRAVEL_LIMIT_PER_TASK_STEP / period
    joints = tuple(JointSpec(axis, unit="m", lower=lo, upper=hi, max_velocity=config.move_scale * travel)
                   for axis, lo, hi in zip("xyz", WORKSPACE_LOW, WORKSPACE_HIGH))
    joints += (JointSpec("yaw", unit="rad", lower=-math.pi, upper=math.pi, max_velocity=config.yaw_scale * travel),
               JointSpec("gripper", unit="normalized", lower=0.0, upper=1.0, max_velocity=1.0 / period))
    park = (*HOME_END_EFFECTOR, 0.0, 0.0)
    if config.layout == "qtopt":
        joints += (JointSpec("terminate", unit="normalized", lower=0.0, upper=1.0, max_velocity=1.0 / period),)
        park += (0.0,)
    camera = config.camera
    return RobotSpec(name="sim-kuka-grasp", joints=joints, action="position", control_period_s=period,
                     observation=(("position", len(joints)), ("lifted", 1)), workspace_low=tuple(WORKSPACE_LOW),
                     workspace_high=tuple(WORKSPACE_HIGH), park=park,
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
        self.config = self.task.config
        self.spec = grasp_arm_spec(self.config)
        self.seed = seed
        self._connected = False
        self._steps, self._reward, self._terminated = 0, 0.0, False
        self.episode_return = 0.0
        self.episode_successes: list[bool] = []
        """Whether each finished episode lifted an object, in order."""

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
        self._steps, self._reward, self._terminated = 0, 0.0, False
        self.episode_return = 0.0
        return self.observe()

    def observe(self) -> dict[str, np.ndarray]:
        if not self._connected:
            raise RobotError(f"{self.spec.name} is not connected: call connect() first")
        return {"position": self._position(), "lifted": np.array([float(self.task.lifted())]),
                "camera": np.ascontiguousarray(self.task.camera_image()),
                "reward": np.array([self._reward]), "terminated": np.array([float(self._terminated)]),
                "truncated": np.zeros(1), "episode_return": np.array([self.episode_return]),
                "step": np.array([float(self._steps)])}

    def send_action(self, action: np.ndarray) -> np.ndarray:
        if not self._connected:
            raise RobotError(f"{self.spec.name} is not connected: call connect() first")
        action = np.asarray(action, dtype=np.float64)
        if action.shape != (self.spec.action_size,) or not np.all(np.isfinite(action)):
            raise RobotError(f"driver refused action {action!r}")
        if self._terminated:
            self._reward = 0.0  # the episode is over: the arm holds until new_episode
            return self._position()
        cfg, scene = self.config, self.task.scene
        closed = bool(action[4] > GRIPPER_CLOSES_ABOVE) and cfg.layout == "qtopt"
        closing = closed and not scene.gripper_closed
        scene.move_to(action[:3], float(action[3]), closed and not closing)
        if closing:  # squeeze gradually, as the task does: fingers shut at once slap small objects away
            scene.close_gripper()
        self._steps += 1
        self._terminated = self._steps >= cfg.max_steps
        if cfg.layout == "qtopt":
            self._terminated |= bool(action[5] > GRIPPER_CLOSES_ABOVE)
            if self._terminated:
                scene.lift()
        elif scene.end_effector()[2] <= cfg.auto_grasp_height:  # the task's automatic grasp
            if cfg.auto_grasp_target is not None:
                scene.hold_at_height(cfg.auto_grasp_target)
            scene.close_gripper()
            scene.lift()
            self._terminated = True
        success = self._terminated and self.task.lifted()
        self._reward = float(success) - cfg.step_penalty
        self.episode_return += self._reward
        if self._terminated:
            self.episode_successes.append(bool(success))
        return action

    def _position(self) -> np.ndarray:
        scene = self.task.scene
        position = [*scene.end_effector(), scene.gripper_yaw(), float(scene.gripper_closed)]
        position += [0.0] * (self.spec.action_size - len(position))  # terminate: a command, never measured
        return np.array(position)

    def forward_kinematics(self, position: np.ndarray) -> np.ndarray:
        """Cartesian: the end effector is the first three entries."""
        return np.asarray(position[:3], dtype=np.float64)

    def close(self) -> None:
        self.env.close()
