"""``mujoco`` backend: N MuJoCo worlds of one model, stepped from a thread pool.

``mj_step`` releases the GIL, so worker threads step their slice of envs in parallel; each worker
then copies the fields the task reads (``qpos``, ``qvel``, and e.g. ``cfrc_ext``) into preallocated
``[N, ...]`` arrays. Observations, rewards and terminations are computed by the task on those whole
batches with numpy: there is no per-env Python in the task maths.

A task (see ``sensorimotor.sim.locomotion``) provides: ``xml_path``, ``frame_skip``,
``data_fields``, ``needs_rne_post``, ``camera``, ``reset_state(rng)``, ``position(batch)``,
``observe(batch)`` and ``reward_terminated(velocity, batch, actions)``.
"""

from __future__ import annotations

import math
import os
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import gymnasium as gym
import numpy as np
import torch

from sensorimotor.envs.core import EpisodeStats, check_actions
from sensorimotor.errors import check
from sensorimotor.utils.mujoco_gl import GL_HELP, import_mujoco, require_rendering

mujoco = import_mujoco()


class MujocoVecEnv:
    """Batched CPU MuJoCo behind the VecEnv contract (see ``envs/core.py``).

    Args:
        task_cls: the task class; ``task_cls.xml_path`` names the model, ``task_cls(model)`` builds it.
        num_envs: N, the number of worlds.
        device: where returned tensors live.
        max_episode_steps: truncation limit in env steps.
        num_threads: worker threads; defaults to ``min(N, os.cpu_count())``.
        render_mode: ``"rgb_array"`` to allow :meth:`render` (frames of env 0).
    """

    metadata: dict[str, Any]

    def __init__(
        self,
        task_cls: type,
        num_envs: int,
        device: torch.device = torch.device("cpu"),
        max_episode_steps: int = 1000,
        num_threads: int | None = None,
        render_mode: str | None = None,
        render_size: tuple[int, int] = (480, 480),
    ):
        check(num_envs > 0, f"num_envs must be positive, got {num_envs}.")
        if render_mode == "rgb_array":
            require_rendering()  # fail before anything is built, not at the first frame
        self.model = mujoco.MjModel.from_xml_path(task_cls.xml_path)
        self.task = task_cls(self.model)
        self.datas = [mujoco.MjData(self.model) for _ in range(num_envs)]
        self.num_envs = num_envs
        self.device = torch.device(device)
        self.max_episode_steps = max_episode_steps
        self.render_mode = render_mode
        self._render_size = render_size
        self._renderer = None
        self.dt = self.model.opt.timestep * self.task.frame_skip
        self.metadata = {"render_modes": ["rgb_array"], "render_fps": int(round(1.0 / self.dt))}

        nu = self.model.nu
        low, high = self.model.actuator_ctrlrange.T.astype(np.float32)
        self.single_action_space = gym.spaces.Box(low, high, (nu,), np.float32)
        self._batch = zero_batch(self.model, self.task.data_fields, num_envs)
        obs_dim = self.task.observe(self._batch).shape[1]
        self.single_observation_space = gym.spaces.Box(-np.inf, np.inf, (obs_dim,), np.float32)

        threads = num_threads or min(num_envs, os.cpu_count() or 1)
        self._chunks = _split(num_envs, threads)
        self._pool = ThreadPoolExecutor(threads - 1) if len(self._chunks) > 1 else None
        self._rngs = [np.random.default_rng() for _ in range(num_envs)]
        self._elapsed = np.zeros(num_envs, dtype=np.int64)
        self._stats = EpisodeStats(num_envs)
        self._ctrl = np.zeros((num_envs, nu), dtype=np.float64)

    # ----------------------------------------------------------------------------------------- API
    def reset(self, seed: int | None = None) -> torch.Tensor:
        if seed is not None:
            self._rngs = [np.random.default_rng(seed + i) for i in range(self.num_envs)]
        for i in range(self.num_envs):
            self._reset_world(i)
        self._elapsed[:] = 0
        self._stats.reset()
        return self._tensor(self.task.observe(self._batch))

    def step(self, actions: torch.Tensor):
        check(
            tuple(actions.shape) == (self.num_envs, self.model.nu),
            f"actions must have shape ({self.num_envs}, {self.model.nu}), got {tuple(actions.shape)}.",
        )
        check_actions(actions, self.single_action_space, self.num_envs)
        self._ctrl[:] = actions.detach().to("cpu", torch.float64).numpy()
        position_before = self.task.position(self._batch).copy()
        # The calling thread steps the first slice itself while the workers step the others: one
        # fewer thread hand-off per step, which matters when a slice takes only ~100 us.
        futures = [self._pool.submit(self._step_range, *c) for c in self._chunks[1:]] if self._pool else []
        self._step_range(*self._chunks[0])
        for future in futures:
            future.result()

        velocity = (self.task.position(self._batch) - position_before) / self.dt
        reward, terminated = self.task.reward_terminated(velocity, self._batch, self._ctrl)
        final_obs = self.task.observe(self._batch)
        self._elapsed += 1
        truncated = (self._elapsed >= self.max_episode_steps) & ~terminated
        done = terminated | truncated
        episode_return, episode_length = self._stats.update(reward, done)

        obs = final_obs
        if done.any():
            for i in np.flatnonzero(done):
                self._reset_world(i)
            self._elapsed[done] = 0
            obs = self.task.observe(self._batch)
        info = {
            "final_obs": self._tensor(final_obs),
            "episode_return": torch.from_numpy(episode_return).to(self.device),
            "episode_length": torch.from_numpy(episode_length).to(self.device),
        }
        return (
            self._tensor(obs),
            torch.from_numpy(reward.astype(np.float32)).to(self.device),
            torch.from_numpy(terminated).to(self.device),
            torch.from_numpy(truncated).to(self.device),
            info,
        )

    def set_state(self, index: int, qpos: np.ndarray, qvel: np.ndarray) -> torch.Tensor:
        """Put world ``index`` in the given state (as gymnasium's ``set_state``); returns all obs."""
        data = self.datas[index]
        data.qpos[:], data.qvel[:] = qpos, qvel
        mujoco.mj_forward(self.model, data)
        self._gather(index, data)
        return self._tensor(self.task.observe(self._batch))

    def render(self) -> np.ndarray | None:
        """RGB frame ``[H, W, 3]`` uint8 of env 0, from a camera tracking the robot's torso."""
        if self.render_mode != "rgb_array":
            return None
        if self._renderer is None:
            self._renderer = make_renderer(self.model, self._render_size, self.task.camera)
        renderer, camera = self._renderer
        renderer.update_scene(self.datas[0], camera)
        return renderer.render()

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False)
        if self._renderer is not None:
            self._renderer[0].close()
            self._renderer = None

    # ------------------------------------------------------------------------------------ internals
    def _step_range(self, start: int, stop: int) -> None:
        model, frame_skip, rne = self.model, self.task.frame_skip, self.task.needs_rne_post
        for i in range(start, stop):
            data = self.datas[i]
            data.ctrl[:] = self._ctrl[i]
            mujoco.mj_step(model, data, nstep=frame_skip)
            if rne:
                # Contact forces (cfrc_ext) are only filled by this call, as in gymnasium's MujocoEnv.
                mujoco.mj_rnePostConstraint(model, data)
            self._gather(i, data)

    def _gather(self, i: int, data: mujoco.MjData) -> None:
        batch = self._batch
        batch["qpos"][i] = data.qpos
        batch["qvel"][i] = data.qvel
        for name in self.task.data_fields:
            batch[name][i] = getattr(data, name)

    def _reset_world(self, i: int) -> None:
        data = self.datas[i]
        mujoco.mj_resetData(self.model, data)
        qpos, qvel = self.task.reset_state(self._rngs[i])
        data.qpos[:], data.qvel[:] = qpos, qvel
        mujoco.mj_forward(self.model, data)
        self._gather(i, data)

    def _tensor(self, array: np.ndarray) -> torch.Tensor:
        return torch.tensor(array, dtype=torch.float32, device=self.device)


def zero_batch(model: mujoco.MjModel, data_fields: tuple[str, ...], n: int) -> dict[str, np.ndarray]:
    """A task's ``batch`` of ``n`` worlds, zeroed: ``qpos [n, nq]``, ``qvel [n, nv]`` and each of
    ``data_fields`` with its MjData shape, float64."""
    data = mujoco.MjData(model)
    batch = {"qpos": np.zeros((n, model.nq)), "qvel": np.zeros((n, model.nv))}
    for name in data_fields:
        batch[name] = np.zeros((n, *getattr(data, name).shape))
    return batch


def _split(n: int, parts: int) -> list[tuple[int, int]]:
    """Contiguous ``(start, stop)`` ranges covering ``range(n)`` in at most ``parts`` pieces."""
    size = math.ceil(n / max(1, parts))
    return [(s, min(n, s + size)) for s in range(0, n, size)]


def make_renderer(model: mujoco.MjModel, size: tuple[int, int], camera_config: dict[str, float]):
    # Shadows and multisampling off: ~10x faster offscreen rendering on the CPU (DESIGN.md 6).
    model.vis.quality.shadowsize = 0
    model.vis.quality.offsamples = 0
    # A good runner leaves Gymnasium's 40 m floor within seconds: draw it 2 km wide. Collision ignores
    # plane sizes (planes are always infinite), so physics is unchanged.
    for geom in np.flatnonzero(model.geom_type == mujoco.mjtGeom.mjGEOM_PLANE):
        old = model.geom_size[geom, 0]
        if 0 < old < 1000.0:
            model.geom_size[geom, :2] = 1000.0
            material = model.geom_matid[geom]
            if material >= 0 and not model.mat_texuniform[material]:
                model.mat_texrepeat[material] *= 1000.0 / old  # keep the checker squares their size
    height, width = size
    model.vis.global_.offwidth = max(model.vis.global_.offwidth, width)
    model.vis.global_.offheight = max(model.vis.global_.offheight, height)
    try:
        renderer = mujoco.Renderer(model, height=height, width=width)
    except Exception as exc:  # noqa: BLE001 - any GL failure means the same thing to the user
        from sensorimotor.errors import UserError

        reason = " ".join(str(exc).split())[:160]
        raise UserError(f"cannot render MuJoCo offscreen with MUJOCO_GL={os.environ.get('MUJOCO_GL')!r} "
                        f"({reason}); {GL_HELP}.") from None
    camera = mujoco.MjvCamera()
    camera.type = mujoco.mjtCamera.mjCAMERA_TRACKING
    camera.trackbodyid = 1
    camera.distance = camera_config.get("distance", 4.0)
    camera.elevation = camera_config.get("elevation", -20.0)
    camera.azimuth = camera_config.get("azimuth", 90.0)
    camera.lookat[2] = camera_config.get("lookat_z", 0.5)
    return renderer, camera
