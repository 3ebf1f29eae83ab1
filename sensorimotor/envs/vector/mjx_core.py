"""The compiled JAX side of the ``mjx`` backend: reset and step functions for one task and batch size.

:func:`core_for` builds a :class:`MjxCore` once per (task, N, episode limit, device) in a process and
keeps it: tracing and lowering an MJX step takes seconds even when XLA's compiled code comes from JAX's
persistent cache, so a second env of the same shape (evaluation, tests) costs nothing.

State is a dict of JAX arrays, batched over N:
``data`` (MJX Data), ``obs`` ``[N, D]``, ``pool`` / ``pool_obs`` (the reset pool, see ``mjx.py``),
``key``, ``elapsed`` / ``length`` int32 ``[N]`` and ``return`` float32 ``[N]``.
"""

from __future__ import annotations

import time
from typing import Any

import gymnasium as gym
import numpy as np
import torch

from sensorimotor.envs.vector.mujoco import zero_batch
from sensorimotor.errors import UserError, check
from sensorimotor.utils.jax_setup import import_mjx
from sensorimotor.utils.mujoco_gl import import_mujoco

mujoco = import_mujoco()

# Working memory of one step relative to one env's MJX Data: the state, the reset pool and the step's
# temporaries (solver and collision buffers). An estimate, used to refuse before compiling.
MEMORY_FACTOR = 5.0
_SOLVERS = {"newton": mujoco.mjtSolver.mjSOL_NEWTON, "cg": mujoco.mjtSolver.mjSOL_CG}
_CORES: dict[tuple, MjxCore] = {}


def core_for(task_cls: type, num_envs: int, max_episode_steps: int, jax_device, torch_device: torch.device) -> MjxCore:
    """The cached :class:`MjxCore` of this shape, built (and compiled) on first use."""
    key = (task_cls, num_envs, max_episode_steps, str(jax_device))
    if key not in _CORES:
        _CORES[key] = MjxCore(task_cls, num_envs, max_episode_steps, jax_device, torch_device)
    return _CORES[key]


class MjxCore:
    """Model, task and the compiled functions: ``place(qpos, qvel) -> (data, obs)`` (with
    :meth:`draw` for random starts) and ``step(state, actions [N, nu]) -> (state, outputs)``.

    Args:
        task_cls: a task of ``sensorimotor.sim.locomotion``.
        num_envs: N.
        max_episode_steps: truncation limit in env steps.
        jax_device: where the arrays live; torch_device: the matching torch device (memory check).
    """

    def __init__(self, task_cls: type, num_envs: int, max_episode_steps: int, jax_device, torch_device):
        self.jax, self.jnp, self.mjx = import_mjx()
        self.model = mujoco.MjModel.from_xml_path(task_cls.xml_path)
        apply_options(self.model, task_cls.mjx_options)
        self.task = task_cls(self.model)
        self.num_envs, self.max_episode_steps, self.jax_device = num_envs, max_episode_steps, jax_device
        self.dt = self.model.opt.timestep * self.task.frame_skip
        name = task_cls.__name__
        try:
            self.mx = self.mjx.put_model(self.model, device=jax_device)
        except NotImplementedError as exc:
            raise UserError(f"MJX does not support {exc} used by {name}'s model ({task_cls.xml_path}); "
                            f"set another in the task's mjx_options or change the XML.") from None
        self.template = self.mjx.make_data(self.mx, device=jax_device)
        check_memory(name, num_envs, per_env_bytes(self.template), torch_device)

        nu = self.model.nu
        low, high = self.model.actuator_ctrlrange.T.astype(np.float32)
        self.action_space = gym.spaces.Box(low, high, (nu,), np.float32)
        obs_dim = self.task.observe(zero_batch(self.model, self.task.data_fields, 1)).shape[1]
        self.observation_space = gym.spaces.Box(-np.inf, np.inf, (obs_dim,), np.float32)

        jax, jnp = self.jax, self.jnp
        with jax.default_device(jax_device):
            started = time.perf_counter()
            key_shape = jax.eval_shape(lambda: jax.random.key(0))
            self._noise = jax.jit(self._start_noise)
            qpos_shape = jax.ShapeDtypeStruct((num_envs, self.model.nq), jnp.float32)
            qvel_shape = jax.ShapeDtypeStruct((num_envs, self.model.nv), jnp.float32)
            self.place = jax.jit(self._place).lower(qpos_shape, qvel_shape).compile()
            state_shape = jax.eval_shape(lambda key: self.initial_state(key, self._place), key_shape)
            actions_shape = jax.ShapeDtypeStruct((num_envs, nu), jnp.float32)
            self.step = jax.jit(self._step).lower(state_shape, actions_shape).compile()
            self.compile_seconds = time.perf_counter() - started
            """Seconds spent tracing and compiling (or loading from JAX's cache) both functions."""

    def draw(self, key, place=None):
        """``key`` -> (MJX Data batched over N at fresh start states, their observations ``[N, D]``,
        the next key). ``place`` defaults to the compiled :meth:`_place`."""
        qpos, qvel, key = self._noise(key)
        data, obs = (place or self.place)(qpos, qvel)
        return data, obs, key

    def initial_state(self, key, place=None) -> dict[str, Any]:
        """Fresh worlds, a fresh reset pool and zeroed counters."""
        jnp = self.jnp
        data, obs, key = self.draw(key, place)
        pool, pool_obs, key = self.draw(key, place)
        zeros = jnp.zeros(self.num_envs, jnp.int32)
        return {"data": data, "obs": obs, "pool": pool, "pool_obs": pool_obs, "key": key,
                "elapsed": zeros, "length": zeros, "return": jnp.zeros(self.num_envs, jnp.float32)}

    def observe(self, data):
        """``[N, D]`` float32 observations of batched ``data``."""
        return self.task.observe(self.gather(data), self.jnp).astype(self.jnp.float32)

    def gather(self, data) -> dict[str, Any]:
        """The task's ``batch``: ``qpos``, ``qvel`` and its ``data_fields``, each ``[N, ...]``."""
        batch = {"qpos": data.qpos, "qvel": data.qvel}
        for name in self.task.data_fields:
            batch[name] = _field(data, name)
        return batch

    # ----------------------------------------------------------------- pure functions (compiled once)
    def _start_noise(self, key):
        """``key`` -> (qpos ``[N, nq]``, qvel ``[N, nv]``, next key): the task's ``reset_state`` noise,
        uniform around the initial pose, and uniform or normal velocities."""
        jax, jnp, task = self.jax, self.jnp, self.task
        n, s = self.num_envs, task.reset_noise_scale
        key, kq, kv = jax.random.split(key, 3)
        qpos = jnp.asarray(task.init_qpos, jnp.float32) + jax.random.uniform(kq, (n, self.model.nq), jnp.float32, -s, s)
        if task.qvel_noise_normal:
            noise = s * jax.random.normal(kv, (n, self.model.nv), jnp.float32)
        else:
            noise = jax.random.uniform(kv, (n, self.model.nv), jnp.float32, -s, s)
        return qpos, jnp.asarray(task.init_qvel, jnp.float32) + noise, key

    def _place(self, qpos, qvel):
        """Worlds at ``qpos [N, nq]``, ``qvel [N, nv]`` (reset data, then a forward pass) and their
        observations ``[N, D]``."""
        jax, mjx = self.jax, self.mjx
        data = jax.vmap(lambda q, v: mjx.forward(self.mx, self.template.replace(qpos=q, qvel=v)))(qpos, qvel)
        return data, self.observe(data)

    def _step(self, state, actions):
        """One env step of all N worlds: physics, task, truncation, statistics, autoreset from the pool.

        Returns ``(state, (obs, reward, terminated, truncated, final_obs, episode_return,
        episode_length))``, each ``[N]`` or ``[N, D]``.
        """
        jax, jnp, mjx, task = self.jax, self.jnp, self.mjx, self.task
        data = state["data"]
        position_before = task.position(self.gather(data), jnp)

        def physics(d, ctrl):
            d = d.replace(ctrl=ctrl)
            d = jax.lax.fori_loop(0, task.frame_skip, lambda _, d: mjx.step(self.mx, d), d)
            # Contact forces (cfrc_ext) are only filled by this call, as in gymnasium's MujocoEnv.
            return mjx.rne_postconstraint(self.mx, d) if task.needs_rne_post else d

        data = jax.vmap(physics)(data, actions)
        batch = self.gather(data)
        velocity = (task.position(batch, jnp) - position_before) / self.dt
        reward, terminated = task.reward_terminated(velocity, batch, actions, jnp)
        reward = reward.astype(jnp.float32)
        final_obs = self.observe(data)
        elapsed = state["elapsed"] + 1
        truncated = (elapsed >= self.max_episode_steps) & ~terminated
        done = terminated | truncated
        episode_sum, length = state["return"] + reward, state["length"] + 1

        def pick(new, old):
            return jnp.where(done.reshape(done.shape + (1,) * (old.ndim - 1)), new, old)

        data = jax.tree.map(pick, state["pool"], data)
        obs = pick(state["pool_obs"], final_obs)
        new_state = dict(state, data=data, obs=obs, elapsed=jnp.where(done, 0, elapsed),
                         length=jnp.where(done, 0, length), **{"return": jnp.where(done, 0.0, episode_sum)})
        out = (obs, reward, terminated, truncated, final_obs,
               jnp.where(done, episode_sum, 0.0), jnp.where(done, length, 0))
        return new_state, out


def apply_options(model: mujoco.MjModel, options: dict[str, object]) -> None:
    """Set ``solver`` (``newton`` / ``cg``), ``iterations`` and ``ls_iterations`` on ``model.opt``."""
    for name, value in options.items():
        if name == "solver":
            check(value in _SOLVERS, f"mjx solver must be one of {', '.join(_SOLVERS)}, got {value!r}.")
            model.opt.solver = _SOLVERS[value]
        elif name in ("iterations", "ls_iterations"):
            check(isinstance(value, int) and value > 0, f"mjx {name} must be a positive integer, got {value!r}.")
            setattr(model.opt, name, value)
        else:
            raise UserError(f"unknown mjx option {name!r}; known: solver, iterations, ls_iterations.")


def per_env_bytes(template) -> int:
    """Bytes of one env's MJX Data (all arrays of the pytree)."""
    import jax

    return int(sum(np.prod(x.shape) * x.dtype.itemsize for x in jax.tree.leaves(template)))


def check_memory(task_name: str, num_envs: int, data_bytes: int, device: torch.device) -> None:
    """Refuse, before compiling, a batch whose estimated working memory exceeds what is free."""
    per_env = MEMORY_FACTOR * data_bytes
    free = _free_bytes(device)
    if free is not None and per_env * num_envs > 0.9 * free:
        raise UserError(f"{num_envs} {task_name} envs on {device} need about {per_env * num_envs / 2**30:.1f} GiB "
                        f"({per_env / 2**20:.2f} MiB each), but {free / 2**30:.1f} GiB is free; "
                        f"use at most {int(0.9 * free / per_env)} envs.")


def _free_bytes(device: torch.device) -> int | None:
    if device.type == "cuda":
        free, _ = torch.cuda.mem_get_info(device)
        return int(free)
    try:
        with open("/proc/meminfo") as f:
            fields = dict(line.split(":", 1) for line in f)
        return int(fields["MemAvailable"].split()[0]) * 1024
    except (OSError, KeyError, ValueError):
        return None


def _field(data, name: str):
    # Newer MJX keeps some fields (cfrc_ext, cinert) in the implementation-specific part of Data.
    impl = getattr(data, "_impl", None)
    if impl is not None and hasattr(impl, name):
        return getattr(impl, name)
    return getattr(data, name)
