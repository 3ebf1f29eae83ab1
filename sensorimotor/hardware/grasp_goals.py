"""A grasp policy on a Cartesian arm: the task's delta actions become the arm's absolute goals.

A grasping policy (QT-Opt, ``KukaGrasp*``) is trained on the task's actions: end-effector steps in
[-1, 1] times the task's ``move_scale`` (m) and ``yaw_scale`` (rad), and, in the ``qtopt`` layout,
gripper and terminate commands. A Cartesian arm (``serve --robot sim-arm:ID``, or a real arm with the
same joints) takes absolute goals: x, y, z (m), yaw (rad), gripper (0 open, 1 closed)[, terminate].
:class:`GraspGoals` sits between them on the deploy side, as the task itself does in simulation:

- it keeps the commanded pose, starting from the measured one at each episode's start, and adds
  each step to it, clamped to the workspace box (the task moves its IK target the same way);
- it builds the policy's observation from the arm's state: ``pixels`` ``[3, H, W]`` uint8 from the
  camera frame, ``state`` = (gripper closed, end-effector height above the tray floor (m), step /
  max_steps), the task's own ``state`` vector;
- after ``max_steps`` goals (the task's episode is over) it repeats the last goal until
  :meth:`reset`; after a ``qtopt`` terminate likewise (the arm has lifted);
- ``auto`` layouts grasp by themselves at the task's ``auto_grasp_height``: a served sim arm does it
  (the task's own close and lift), and for an arm that does not end episodes (a real one) this
  client does: once the measured height is at or below it, the gripper closes where it is (or, for a
  task with an ``auto_grasp_target`` such as the cube's, first moves to that height open), then the
  arm rises to the top of the workspace and holds there;
- the server's safety layer still clamps every goal to the workspace and the per-period travel.

The numbers it needs (scales, layout, floor height, workspace, max_steps) come from the export's
manifest (``manifest["goals"]``, written by ``sensorimotor export`` for grasping tasks).
"""

from __future__ import annotations

import math

import numpy as np

from sensorimotor.hardware.cameras.base import frame_to_policy

GOALS_KIND = "grasp_cartesian_deltas"


def grasp_goals_section(config) -> dict:
    """The manifest's ``goals`` entry for a grasping task's ``GraspTaskConfig``."""
    from sensorimotor.sim.pybullet.grasping.scene import TRAY_FLOOR_Z, WORKSPACE_HIGH, WORKSPACE_LOW

    return {"kind": GOALS_KIND, "layout": config.layout, "descend_each_step": config.descend_each_step,
            "move_scale_m": config.move_scale, "yaw_scale_rad": config.yaw_scale, "max_steps": config.max_steps,
            "floor_z_m": TRAY_FLOOR_Z, "workspace_low": list(WORKSPACE_LOW), "workspace_high": list(WORKSPACE_HIGH),
            "auto_grasp_height_m": config.auto_grasp_height, "auto_grasp_target_m": config.auto_grasp_target}


class GraspGoals:
    """Args:
        policy: a dict-observation policy (``OnnxPolicy`` of a grasping export, or any callable
            ``{"pixels", "state"} -> action [A]``) with ``reset()``.
        goals: the manifest's ``goals`` entry (:func:`grasp_goals_section`).

    Called with the arm's state arrays (``position`` ``[5|6]``, ``camera`` ``[H, W, 3]`` uint8), it
    returns the next absolute goal ``[5]`` (``auto`` layouts) or ``[6]`` (``qtopt``).
    """

    reads_state = True
    """The deploy loop hands this policy the whole state (all arrays), not one observation."""

    def __init__(self, policy, goals: dict):
        if goals.get("kind") != GOALS_KIND:
            raise ValueError(f"goals of kind {goals.get('kind')!r} are not a grasp policy's ({GOALS_KIND!r})")
        self.policy, self.goals = policy, goals
        self.qtopt = goals["layout"] == "qtopt"
        self.low = np.asarray(goals["workspace_low"], np.float64)
        self.high = np.asarray(goals["workspace_high"], np.float64)
        parts = getattr(policy, "obs_parts", {})
        self.pixels_shape = parts["pixels"][1] if "pixels" in parts else None
        self.reset()

    def reset(self) -> None:
        """Start of an episode: the commanded pose is taken from the next measurement."""
        self.target: np.ndarray | None = None
        self.yaw = 0.0
        self.steps = 0
        self.last_goal: np.ndarray | None = None
        self.grasping = 0
        """Goals sent since the automatic grasp began (0: not grasping): 1 closes, then lift and hold."""
        self.policy.reset()

    def observation(self, arrays: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """The task's observation from the arm's state: ``pixels`` ``[3, H, W]`` uint8, ``state`` ``[3]``."""
        position, frame = np.asarray(arrays["position"], np.float64), np.asarray(arrays["camera"])
        shape = self.pixels_shape or (3, *frame.shape[:2])
        pixels = frame_to_policy(frame, shape)
        g = self.goals
        state = np.array([float(position[4] > 0.5), position[2] - g["floor_z_m"], self.steps / g["max_steps"]],
                         np.float32)
        return {"pixels": pixels, "state": state}

    def __call__(self, arrays: dict[str, np.ndarray]) -> np.ndarray:
        position = np.asarray(arrays["position"], np.float64)
        if self.target is None:
            self.target, self.yaw = position[:3].copy(), float(position[3])
        g = self.goals
        if not self.qtopt and (self.grasping or position[2] <= g.get("auto_grasp_height_m", -np.inf)):
            return self._grasp()
        if self.steps >= g["max_steps"]:  # the task's episode is over; an arm that goes on holds the last goal
            return self.last_goal.copy()
        action = np.clip(np.asarray(self.policy(self.observation(arrays)), np.float64).reshape(-1), -1.0, 1.0)
        if g["layout"] == "qtopt":
            delta, dyaw = action[:3], action[3]
        elif g["descend_each_step"]:
            delta, dyaw = np.array([action[0], action[1], -1.0]), action[2]
        else:
            delta, dyaw = action[:3], action[3]
        self.target = np.clip(self.target + delta * g["move_scale_m"], self.low, self.high)
        self.yaw = float(np.clip(self.yaw + dyaw * g["yaw_scale_rad"], -math.pi, math.pi))
        self.steps += 1
        goal = [*self.target, self.yaw, float(action[4] > 0) if self.qtopt else 0.0]
        if self.qtopt:
            goal.append(float(action[5] > 0 or self.steps >= g["max_steps"]))
            if goal[-1]:
                self.steps = g["max_steps"]  # terminated: the goals that follow repeat this one
        self.last_goal = np.array(goal)
        return self.last_goal.copy()

    def _grasp(self) -> np.ndarray:
        """The ``auto`` layouts' grasp on an arm that does not do it itself: close where the gripper is
        (one goal), then rise to the workspace's top with the fingers closed and hold. With the task's
        ``auto_grasp_target_m`` the gripper first goes to that height open (one goal more), as the
        task's ``hold_at_height`` does before it closes."""
        self.grasping += 1
        height = self.goals.get("auto_grasp_target_m")
        closes_at = 1 if height is None else 2
        if height is not None and self.grasping <= closes_at:
            self.target = np.array([*self.target[:2], np.clip(height, self.low[2], self.high[2])])
        if self.grasping > closes_at:
            self.target = np.array([*self.target[:2], self.high[2]])
        return np.array([*self.target, self.yaw, float(self.grasping >= closes_at)])
