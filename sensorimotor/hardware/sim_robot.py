"""``SimRobot``: any registered sim task in the driver's shoes, so the whole deploy path (export,
bridge, safety, runtime) runs on loopback without hardware.

The task's action is the robot's command (``effort`` semantics, normalized units, bounded by the
task's action space); its observation is served as ``obs``, with ``reward``, ``terminated`` and
``truncated`` so that a client can score episodes. With ``camera`` set, each state also carries the
task's rendered frame (``camera`` ``[H, W, 3]`` uint8; needs headless GL, see docs/hardware.md).
"""

from __future__ import annotations

import gymnasium as gym
import numpy as np

from sensorimotor.hardware.robot import Robot, RobotError
from sensorimotor.hardware.spec import CameraSpec, JointSpec, RobotSpec


def sim_spec(env_id: str, env: gym.Env | None = None, camera: tuple[int, int] | None = None) -> RobotSpec:
    """The robot spec of a registered task: one joint per action entry (named after the MuJoCo
    actuator when there is one), effort commands within the action bounds, the task's control period."""
    from sensorimotor.envs import make

    own = env is None
    env = make(env_id) if own else env
    try:
        space = env.action_space
        if not isinstance(space, gym.spaces.Box) or len(space.shape) != 1:
            raise RobotError(f"{env_id} has a {type(space).__name__} action space; a robot needs a flat Box")
        names = _actuator_names(env) or [f"a{i}" for i in range(space.shape[0])]
        joints = tuple(JointSpec(name, unit="normalized", lower=float(lo), upper=float(hi), max_velocity=float("inf"))
                       for name, lo, hi in zip(names, space.low, space.high))
        obs_size = int(np.prod(env.observation_space.shape))
        period = float(getattr(env.unwrapped, "dt", 0.05))
        cameras = (CameraSpec("camera", camera[0], camera[1]),) if camera else ()
        return RobotSpec(name=f"sim:{env_id}", joints=joints, action="effort", control_period_s=period,
                         observation=(("obs", obs_size),), cameras=cameras)
    finally:
        if own:
            env.close()


def _actuator_names(env: gym.Env) -> list[str] | None:
    model = getattr(env.unwrapped, "model", None)
    if model is None or not hasattr(model, "nu"):
        return None
    import mujoco

    return [mujoco.mj_id2name(model, mujoco.mjtObj.mjOBJ_ACTUATOR, i) or f"a{i}" for i in range(model.nu)]


class SimRobot(Robot):
    """Args:
        env_id: a registered task with a flat Box action space (the locomotion tasks, Pendulum...).
        seed: seed of the first episode; later episodes continue the env's RNG.
        camera: ``(height, width)`` to serve rendered frames with every state, or None.
        control_period_s: override the task's own period (the sim still advances one task step per period).
    """

    episodic = True

    def __init__(self, env_id: str, seed: int | None = 0, camera: tuple[int, int] | None = None,
                 control_period_s: float | None = None):
        from sensorimotor.envs import make

        self.env_id, self.seed = env_id, seed
        if camera:
            from sensorimotor.utils.mujoco_gl import require_rendering

            require_rendering()
        self.env = make(env_id, render_mode="rgb_array" if camera else None,
                        **({"width": camera[1], "height": camera[0]} if camera else {}))
        spec = sim_spec(env_id, self.env, camera)
        if control_period_s is not None:
            spec = RobotSpec.from_dict({**spec.to_dict(), "control_period_s": control_period_s})
        self.spec = spec
        self.camera = camera
        self._connected = False
        self._obs = None
        self._fresh = False
        self._reward = 0.0
        self._terminated = self._truncated = False
        self.episode_return = 0.0
        self.episode_returns: list[float] = []

    def connect(self) -> None:
        self._connected = True
        self.new_episode(seed=self.seed)

    def disconnect(self) -> None:
        self._connected = False

    @property
    def is_connected(self) -> bool:
        return self._connected

    def new_episode(self, seed: int | None = None) -> dict[str, np.ndarray]:
        """Reset the task, unless it has not stepped since the last reset (so a client that opens
        with ``new_episode`` still gets the seeded first episode)."""
        if self._fresh and seed is None:
            return self.observe()
        self._fresh = True
        self._obs, _ = self.env.reset(seed=seed)
        self._reward, self._terminated, self._truncated = 0.0, False, False
        self.episode_return = 0.0
        return self.observe()

    def observe(self) -> dict[str, np.ndarray]:
        if not self._connected:
            raise RobotError(f"{self.spec.name} is not connected: call connect() first")
        out = {"obs": np.asarray(self._obs, dtype=np.float32).ravel(),
               "reward": np.array([self._reward], dtype=np.float64),
               "terminated": np.array([self._terminated], dtype=np.float64),
               "truncated": np.array([self._truncated], dtype=np.float64),
               "episode_return": np.array([self.episode_return], dtype=np.float64)}
        if self.camera:
            out["camera"] = np.ascontiguousarray(self.env.render(), dtype=np.uint8)
        return out

    def send_action(self, action: np.ndarray) -> np.ndarray:
        if not self._connected:
            raise RobotError(f"{self.spec.name} is not connected: call connect() first")
        action = np.asarray(action, dtype=np.float32)
        if action.shape != (self.spec.action_size,) or not np.all(np.isfinite(action)):
            raise RobotError(f"driver refused action {action!r}")
        if self._terminated or self._truncated:
            self._reward = 0.0  # the episode is over: the sim stands still until new_episode
            return np.zeros_like(action)
        self._fresh = False
        self._obs, reward, self._terminated, self._truncated, _ = self.env.step(action)
        self._reward = float(reward)
        self.episode_return += self._reward
        if self._terminated or self._truncated:
            self.episode_returns.append(self.episode_return)
        return action

    def close(self) -> None:
        self.env.close()
