"""The Gymnasium v5 locomotion tasks as batched observe / reward / terminate functions.

Each task reproduces Gymnasium's ``*_v5.py`` defaults exactly (same XML, frame skip, observation
layout, reward terms, health checks and reset noise); ``tests/sim/test_locomotion_parity.py`` steps
both with the same actions and compares. Arrays in ``batch`` are ``[N, ...]`` float64 copies of the
MjData fields named in ``data_fields`` plus ``qpos`` ``[N, nq]`` and ``qvel`` ``[N, nv]``.

The batch functions take ``xp``, the array namespace: ``numpy`` for the CPU ``mujoco`` backend and
``jax.numpy`` for the ``mjx`` backend, so both backends compute observations, rewards and terminations
with the same code (``tests/envs/test_mjx.py`` compares them).

``mjx_options`` are the model options the ``mjx`` backend sets before ``mjx.put_model``: MJX has no PGS
solver (Humanoid's XML asks for it), so every task states its solver and iteration caps explicitly.

| task        | frame skip | obs | reward                                            | terminates when        |
|-------------|-----------:|----:|---------------------------------------------------|------------------------|
| HalfCheetah | 5          | 17  | x velocity - 0.1 |a|^2                            | never                  |
| Hopper      | 4          | 11  | x velocity + 1 (healthy) - 1e-3 |a|^2             | z<=0.7, |angle|>=0.2, |state|>=100 |
| Walker2d    | 4          | 17  | x velocity + 1 (healthy) - 1e-3 |a|^2             | z not in (0.8, 2), |angle|>=1 |
| Ant         | 5          | 105 | x velocity + 1 - 0.5 |a|^2 - 5e-4 |clip(cfrc)|^2  | torso z not in [0.2, 1] or non-finite |
| Humanoid    | 5          | 348 | 1.25 COM x velocity + 5 - 0.1 |a|^2 - contact cost | z not in (1, 2)    |
| InvertedPendulum | 2     | 4   | 1 while upright                                   | |angle| > 0.2 or non-finite |
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import gymnasium
import numpy as np

if TYPE_CHECKING:
    import mujoco

ASSETS = os.path.join(os.path.dirname(gymnasium.__file__), "envs", "mujoco", "assets")


class LocomotionTask:
    """Shared parts: reset noise around the model's initial pose, x position, control cost."""

    xml_path: str
    frame_skip: int
    data_fields: tuple[str, ...] = ()
    needs_rne_post = False
    reset_noise_scale: float
    qvel_noise_normal = False  # HalfCheetah and Ant draw qvel noise from N(0, 1) * scale
    ctrl_cost_weight: float
    camera: dict[str, float] = {"distance": 4.0}
    # The XMLs' own solver settings (Newton, at most 100 iterations and 50 line-search steps, early exit
    # at the tolerance); Humanoid overrides them. See the module docstring.
    mjx_options: dict[str, object] = {"solver": "newton", "iterations": 100, "ls_iterations": 50}

    def __init__(self, model: mujoco.MjModel):
        self.model = model
        self.init_qpos = model.qpos0.copy()
        self.init_qvel = np.zeros(model.nv)

    def reset_state(self, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        s = self.reset_noise_scale
        qpos = self.init_qpos + rng.uniform(-s, s, self.model.nq)
        if self.qvel_noise_normal:
            qvel = self.init_qvel + s * rng.standard_normal(self.model.nv)
        else:
            qvel = self.init_qvel + rng.uniform(-s, s, self.model.nv)
        return qpos, qvel

    def position(self, batch: dict[str, np.ndarray], xp=np) -> np.ndarray:
        """``[N]`` the coordinate whose rate of change is rewarded (torso x)."""
        return batch["qpos"][:, 0]

    def control_cost(self, actions: np.ndarray, xp=np) -> np.ndarray:
        return self.ctrl_cost_weight * xp.square(actions).sum(axis=1)


class HalfCheetah(LocomotionTask):
    xml_path = os.path.join(ASSETS, "half_cheetah.xml")
    frame_skip = 5
    reset_noise_scale = 0.1
    qvel_noise_normal = True
    ctrl_cost_weight = 0.1
    camera = {"distance": 5.0, "lookat_z": 0.3}

    def observe(self, batch, xp=np):
        return xp.concatenate([batch["qpos"][:, 1:], batch["qvel"]], axis=1)

    def reward_terminated(self, velocity, batch, actions, xp=np):
        reward = velocity - self.control_cost(actions, xp)
        return reward, xp.zeros(len(reward), dtype=bool)


class _PlanarWalker(LocomotionTask):
    """Hopper and Walker2d: healthy bonus, clipped velocities in the observation."""

    frame_skip = 4
    reset_noise_scale = 5e-3
    ctrl_cost_weight = 1e-3
    healthy_reward = 1.0
    camera = {"distance": 4.0, "lookat_z": 1.0}

    def observe(self, batch, xp=np):
        return xp.concatenate([batch["qpos"][:, 1:], xp.clip(batch["qvel"], -10.0, 10.0)], axis=1)

    def reward_terminated(self, velocity, batch, actions, xp=np):
        healthy = self.is_healthy(batch, xp)
        reward = velocity + self.healthy_reward * healthy - self.control_cost(actions, xp)
        return reward, ~healthy


class Hopper(_PlanarWalker):
    xml_path = os.path.join(ASSETS, "hopper.xml")

    def is_healthy(self, batch, xp=np):
        qpos, qvel = batch["qpos"], batch["qvel"]
        z, angle = qpos[:, 1], qpos[:, 2]
        state = xp.concatenate([qpos[:, 2:], qvel], axis=1)  # state_vector()[2:]
        healthy_state = xp.all((-100.0 < state) & (state < 100.0), axis=1)
        return healthy_state & (0.7 < z) & (-0.2 < angle) & (angle < 0.2)


class Walker2d(_PlanarWalker):
    xml_path = os.path.join(ASSETS, "walker2d_v5.xml")

    def is_healthy(self, batch, xp=np):
        z, angle = batch["qpos"][:, 1], batch["qpos"][:, 2]
        return (0.8 < z) & (z < 2.0) & (-1.0 < angle) & (angle < 1.0)


class Ant(LocomotionTask):
    xml_path = os.path.join(ASSETS, "ant.xml")
    frame_skip = 5
    data_fields = ("cfrc_ext", "xpos")
    needs_rne_post = True
    reset_noise_scale = 0.1
    qvel_noise_normal = True
    ctrl_cost_weight = 0.5
    contact_cost_weight = 5e-4
    camera = {"distance": 6.0, "elevation": -30.0, "lookat_z": 0.3}

    def position(self, batch, xp=np):
        return batch["xpos"][:, 1, 0]  # main body (torso) x

    def contact_forces(self, batch, xp=np):
        return xp.clip(batch["cfrc_ext"], -1.0, 1.0)

    def observe(self, batch, xp=np):
        n = len(batch["qpos"])
        forces = self.contact_forces(batch, xp)[:, 1:].reshape(n, -1)
        return xp.concatenate([batch["qpos"][:, 2:], batch["qvel"], forces], axis=1)

    def reward_terminated(self, velocity, batch, actions, xp=np):
        state = xp.concatenate([batch["qpos"], batch["qvel"]], axis=1)
        z = state[:, 2]
        healthy = xp.isfinite(state).all(axis=1) & (0.2 <= z) & (z <= 1.0)
        n = len(state)
        contact_cost = self.contact_cost_weight * xp.square(self.contact_forces(batch, xp)).reshape(n, -1).sum(1)
        reward = velocity + 1.0 * healthy - self.control_cost(actions, xp) - contact_cost
        return reward, ~healthy


class Humanoid(LocomotionTask):
    xml_path = os.path.join(ASSETS, "humanoid.xml")
    frame_skip = 5
    data_fields = ("cinert", "cvel", "qfrc_actuator", "cfrc_ext", "xipos")
    needs_rne_post = True
    reset_noise_scale = 1e-2
    ctrl_cost_weight = 0.1
    contact_cost_weight = 5e-7
    camera = {"distance": 5.0, "lookat_z": 1.0}
    # humanoid.xml asks for PGS, which MJX does not implement: Newton with the XML's 50-iteration cap.
    mjx_options = {"solver": "newton", "iterations": 50, "ls_iterations": 50}

    def __init__(self, model):
        super().__init__(model)
        self._mass = model.body_mass / model.body_mass.sum()

    def position(self, batch, xp=np):
        """``[N]`` x of the centre of mass (gymnasium's ``mass_center``)."""
        return xp.einsum("b,nb->n", self._mass, batch["xipos"][:, :, 0])

    def observe(self, batch, xp=np):
        n = len(batch["qpos"])
        return xp.concatenate(
            [
                batch["qpos"][:, 2:],
                batch["qvel"],
                batch["cinert"][:, 1:].reshape(n, -1),
                batch["cvel"][:, 1:].reshape(n, -1),
                batch["qfrc_actuator"][:, 6:],
                batch["cfrc_ext"][:, 1:].reshape(n, -1),
            ],
            axis=1,
        )

    def reward_terminated(self, velocity, batch, actions, xp=np):
        z = batch["qpos"][:, 2]
        healthy = (1.0 < z) & (z < 2.0)
        n = len(z)
        contact_cost = self.contact_cost_weight * xp.square(batch["cfrc_ext"]).reshape(n, -1).sum(1)
        contact_cost = xp.minimum(contact_cost, 10.0)
        # As gymnasium: the cost is on data.ctrl as written, before MuJoCo clamps it to ctrlrange.
        reward = 1.25 * velocity + 5.0 * healthy - self.control_cost(actions, xp) - contact_cost
        return reward, ~healthy


class InvertedPendulum(LocomotionTask):
    """A cart balancing a pole: a small, quickly learned task (gymnasium ``InvertedPendulum-v5``)."""

    xml_path = os.path.join(ASSETS, "inverted_pendulum.xml")
    frame_skip = 2
    reset_noise_scale = 0.01
    ctrl_cost_weight = 0.0
    camera = {"distance": 2.0, "lookat_z": 0.0}

    def observe(self, batch, xp=np):
        return xp.concatenate([batch["qpos"], batch["qvel"]], axis=1)

    def reward_terminated(self, velocity, batch, actions, xp=np):
        obs = self.observe(batch, xp)
        terminated = ~xp.isfinite(obs).all(axis=1) | (xp.abs(obs[:, 1]) > 0.2)
        return xp.where(terminated, 0.0, 1.0), terminated
