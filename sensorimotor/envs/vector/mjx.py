"""``mjx`` backend: N MuJoCo worlds stepped as one jitted, vmapped MuJoCo XLA (MJX) function.

One call of the compiled step (``mjx_core.py``) does everything for all N envs on the device: frame
skip, the task's observation / reward / termination (the same task code as the CPU ``mujoco`` backend,
run with ``jax.numpy``), truncation, episode statistics and same-step autoreset. Nothing comes back to
the host and the host never waits for the device: tensors cross between JAX and torch through DLPack
without a copy (on the GPU and on JAX's CPU device).

Autoreset without a forward pass per step: resetting a world needs ``mjx.forward`` (positions,
contacts, inertias for the first observation). Doing it for every env on every step, then selecting,
would add a forward pass to each step. Instead a *reset pool* (one freshly drawn start state per env)
is redrawn every ``reset_refresh`` steps, and a finished env copies its row of the pool. Start states
are therefore still drawn per env and per refresh from the task's noise; an env that ends twice within
one refresh window starts both episodes from the same state.

Solver settings come from the task's ``mjx_options`` (MJX has no PGS solver); see ``sim/locomotion``.
JAX computes in float32 (the CPU backend in float64): one step from equal states agrees to ~1e-4.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from sensorimotor.envs.core import check_actions
from sensorimotor.envs.vector.mjx_core import core_for
from sensorimotor.errors import UserError, check
from sensorimotor.utils.jax_setup import import_mjx, jax_device_for
from sensorimotor.utils.mujoco_gl import import_mujoco, require_rendering

mujoco = import_mujoco()


class MjxVecEnv:
    """Batched MJX behind the VecEnv contract (see ``envs/core.py``).

    Args:
        task_cls: a task of ``sensorimotor.sim.locomotion`` (``xml_path``, ``frame_skip``,
            ``mjx_options``, ``observe`` / ``reward_terminated`` / ``position`` taking ``xp``).
        num_envs: N.
        device: ``cpu`` or ``cuda[:i]``: JAX runs on the matching device and tensors are shared.
        max_episode_steps: truncation limit in env steps.
        reset_refresh: steps between redraws of the reset pool (see the module docstring).
        render_mode: ``"rgb_array"`` to allow :meth:`render` (env 0, copied to a CPU MjData).
    """

    metadata: dict[str, Any]

    def __init__(self, task_cls: type, num_envs: int, device: torch.device = torch.device("cpu"),
                 max_episode_steps: int = 1000, reset_refresh: int = 16, render_mode: str | None = None,
                 render_size: tuple[int, int] = (480, 480)):
        check(isinstance(num_envs, int) and num_envs > 0, f"num_envs must be a positive integer, got {num_envs!r}.")
        check(reset_refresh > 0, f"reset_refresh must be positive, got {reset_refresh}.")
        if render_mode == "rgb_array":
            require_rendering()
        self._jax, self._jnp, _ = import_mjx()
        self.device = torch.device(device)
        self._core = core_for(task_cls, num_envs, max_episode_steps, jax_device_for(self.device), self.device)
        self.task, self.model, self.dt = self._core.task, self._core.model, self._core.dt
        self.num_envs, self.max_episode_steps, self.reset_refresh = num_envs, max_episode_steps, reset_refresh
        self.single_action_space = self._core.action_space
        self.single_observation_space = self._core.observation_space
        self.metadata = {"render_modes": ["rgb_array"], "render_fps": int(round(1.0 / self.dt))}
        self.compile_seconds = self._core.compile_seconds
        self.render_mode, self._render_size, self._renderer = render_mode, render_size, None
        self._state, self._steps = None, 0

    # ----------------------------------------------------------------------------------------- API
    def reset(self, seed: int | None = None) -> torch.Tensor:
        jax = self._jax
        if seed is None:
            seed = int(np.random.SeedSequence().entropy % (2**31))
        with jax.default_device(self._core.jax_device):
            self._state = self._core.initial_state(jax.random.key(seed))
        self._steps = 0
        return _torch(self._state["obs"])

    def step(self, actions: torch.Tensor):
        check(self._state is not None, "call reset() before step().")
        check_actions(actions, self.single_action_space, self.num_envs)
        actions = actions.detach().to(self.device, torch.float32).contiguous()
        self._steps += 1
        if self._steps % self.reset_refresh == 0:  # a dispatch, not a sync: the host does not wait
            pool, pool_obs, key = self._core.draw(self._state["key"])
            self._state = dict(self._state, pool=pool, pool_obs=pool_obs, key=key)
        self._state, out = self._core.step(self._state, self._jnp.from_dlpack(actions))
        obs, reward, terminated, truncated, final_obs, episode_return, episode_length = (_torch(x) for x in out)
        info = {"final_obs": final_obs, "episode_return": episode_return,
                "episode_length": episode_length.to(torch.int64)}
        return obs, reward, terminated, truncated, info

    def set_states(self, qpos: np.ndarray, qvel: np.ndarray) -> torch.Tensor:
        """Put all N worlds in the given states (``[N, nq]``, ``[N, nv]``; as gymnasium's ``set_state``,
        solver warm starts cleared); returns the observations ``[N, D]``. Episode counters are kept.

        Tests use it to step this backend and the CPU one from equal states.
        """
        check(self._state is not None, "call reset() before set_states().")
        jnp = self._jnp
        data, obs = self._core.place(jnp.asarray(qpos, jnp.float32), jnp.asarray(qvel, jnp.float32))
        self._state = dict(self._state, data=data, obs=obs)
        return _torch(obs)

    def render(self) -> np.ndarray | None:
        """RGB frame ``[H, W, 3]`` uint8 of env 0 (its state copied to a CPU MjData)."""
        if self.render_mode != "rgb_array" or self._state is None:
            return None
        from sensorimotor.envs.vector.mujoco import make_renderer

        if self._renderer is None:
            model = mujoco.MjModel.from_xml_path(self.task.xml_path)  # the renderer edits its model
            self._renderer = (*make_renderer(model, self._render_size, self.task.camera), model, mujoco.MjData(model))
        renderer, camera, model, data = self._renderer
        data.qpos[:] = np.asarray(self._state["data"].qpos[0])
        data.qvel[:] = np.asarray(self._state["data"].qvel[0])
        mujoco.mj_forward(model, data)
        renderer.update_scene(data, camera)
        return renderer.render()

    def close(self) -> None:
        if self._renderer is not None:
            self._renderer[0].close()
            self._renderer = None
        self._state = None


def _torch(array) -> torch.Tensor:
    # Zero copy: the tensor views the JAX buffer (tests check the data pointer). JAX buffers are never
    # written in place (no donation), so a tensor handed out stays valid and unchanged.
    return torch.from_dlpack(array)


def mjx_available() -> bool:
    """True when jax and mujoco-mjx import (tests skip the backend otherwise)."""
    try:
        import_mjx()
    except UserError:
        return False
    return True
