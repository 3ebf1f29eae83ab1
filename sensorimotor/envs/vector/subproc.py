"""``subproc`` backend: envs stepped in worker processes, observations through shared memory.

For envs that hold the GIL or a process-wide engine (VizDoom, PyBullet). Each worker runs a
:class:`SyncVecEnv` over its slice of the envs (same autoreset and episode statistics) and writes
``obs`` and ``final_obs`` into shared arrays; rewards and flags (a few bytes) go through a pipe.
Workers start with ``spawn`` (no forked OpenMP or GL state) and build their envs from the registry id.
On 2 cores in-process envs are usually faster; this backend pays off when one env step costs more
than the hand-off (~0.1-0.2 ms).
"""

from __future__ import annotations

import multiprocessing as mp
from multiprocessing import shared_memory

import numpy as np
import torch

from sensorimotor.envs.core import check_actions, space_dtype


class WorkerError(RuntimeError):
    """An env raised inside a worker process; the message carries the worker's traceback."""


def _worker(conn, env_id: str, count: int, kwargs: dict, shm_names: tuple[str, str], offset: int, total: int,
            gymnasium_spec=None):
    import gymnasium as gym

    from sensorimotor.envs.registry import make_vec

    if gymnasium_spec is not None:  # an id the user registered with gymnasium in the parent process
        gym.registry[env_id] = gymnasium_spec

    env = make_vec(env_id, count, backend="sync", **kwargs)
    shape = env.single_observation_space.shape
    dtype = np.dtype(torch.empty(0, dtype=space_dtype(env.single_observation_space)).numpy().dtype)
    buffers = [shared_memory.SharedMemory(name=name) for name in shm_names]
    obs_out, final_out = (np.ndarray((total, *shape), dtype, buffer=b.buf)[offset:offset + count] for b in buffers)
    try:
        while True:
            command, payload = conn.recv()
            if command == "close":
                break
            try:
                conn.send(("ok", _serve(env, command, payload, obs_out, final_out)))
            except Exception as exc:  # noqa: BLE001 - every failure goes back to the parent; the worker ends
                import traceback

                conn.send(("error", f"{type(exc).__name__}: {exc}", traceback.format_exc()))
                break
    finally:
        env.close()
        for b in buffers:
            b.close()
        conn.close()


def _serve(env, command: str, payload, obs_out: np.ndarray, final_out: np.ndarray):
    """One command from the parent; returns what goes back (observations go through shared memory)."""
    if command == "reset":
        obs_out[:] = env.reset(seed=payload).numpy()
        return None
    if command == "step":
        obs, reward, terminated, truncated, info = env.step(torch.from_numpy(payload))
        obs_out[:] = obs.numpy()
        final_out[:] = info["final_obs"].numpy()
        return (reward.numpy(), terminated.numpy(), truncated.numpy(), info["episode_return"].numpy(),
                info["episode_length"].numpy())
    if command == "render":
        return env.render()
    raise ValueError(f"unknown command {command!r}")


class SubprocVecEnv:
    """``num_envs`` copies of registry id ``env_id`` over ``num_workers`` processes (VecEnv contract)."""

    def __init__(self, env_id: str, num_envs: int, device: torch.device, num_workers: int | None = None, **kwargs):
        from sensorimotor.envs.registry import make_vec

        import gymnasium as gym

        from sensorimotor.envs.registry import spec

        probe = make_vec(env_id, 1, backend="sync", **kwargs)  # the spaces exactly as the workers see them
        gymnasium_spec = gym.registry.get(env_id) if "user" in spec(env_id).tags else None
        self.single_observation_space, self.single_action_space = (probe.single_observation_space,
                                                                   probe.single_action_space)
        self.metadata = dict(probe.metadata)
        probe.close()
        self.num_envs, self.device = num_envs, torch.device(device)
        self._obs_dtype = space_dtype(self.single_observation_space)
        np_dtype = torch.empty(0, dtype=self._obs_dtype).numpy().dtype
        shape = (num_envs, *self.single_observation_space.shape)
        nbytes = max(1, int(np.prod(shape)) * np_dtype.itemsize)
        self._shm = [shared_memory.SharedMemory(create=True, size=nbytes) for _ in range(2)]
        self._obs, self._final = (np.ndarray(shape, np_dtype, buffer=s.buf) for s in self._shm)
        workers = max(1, min(num_workers or mp.cpu_count(), num_envs))
        counts = [num_envs // workers + (i < num_envs % workers) for i in range(workers)]
        self._offsets = np.cumsum([0, *counts])[:-1].tolist()
        context = mp.get_context("spawn")
        self._conns, self._procs = [], []
        for count, offset in zip(counts, self._offsets):
            parent, child = context.Pipe()
            proc = context.Process(target=_worker, daemon=True,
                                   args=(child, env_id, count, kwargs, tuple(s.name for s in self._shm), offset, num_envs,
                                         gymnasium_spec))
            proc.start()
            child.close()
            self._conns.append(parent)
            self._procs.append(proc)
        self._counts = counts

    def reset(self, seed: int | None = None) -> torch.Tensor:
        for conn, offset in zip(self._conns, self._offsets):
            conn.send(("reset", None if seed is None else seed + offset))
        self._gather()
        return self._tensor(self._obs)

    def step(self, actions: torch.Tensor):
        check_actions(actions, self.single_action_space, self.num_envs)
        actions = actions.detach().cpu().numpy()
        for conn, offset, count in zip(self._conns, self._offsets, self._counts):
            conn.send(("step", actions[offset:offset + count]))
        parts = self._gather()
        reward, terminated, truncated, ep_return, ep_length = (np.concatenate(p) for p in zip(*parts))
        info = {"final_obs": self._tensor(self._final),
                "episode_return": torch.as_tensor(ep_return, device=self.device),
                "episode_length": torch.as_tensor(ep_length, device=self.device)}
        return (self._tensor(self._obs), torch.as_tensor(reward, device=self.device),
                torch.as_tensor(terminated, device=self.device), torch.as_tensor(truncated, device=self.device), info)

    def render(self) -> np.ndarray | None:
        self._conns[0].send(("render", None))
        return self._gather(self._conns[:1])[0]

    def _gather(self, conns=None) -> list:
        """Every worker's answer; a worker's exception is raised here with its traceback (the other
        workers are closed first), and a worker that died without one is named."""
        results, failure = [], None
        for i, conn in enumerate(conns or self._conns):
            try:
                answer = conn.recv()
            except (EOFError, ConnectionResetError, BrokenPipeError):
                answer = ("error", f"worker {i} died (exit code {self._procs[i].exitcode})", "")
            if answer[0] == "error" and failure is None:
                failure = answer
            results.append(answer[1] if answer[0] == "ok" else None)
        if failure is not None:
            self.close()
            raise WorkerError(f"an env worker failed: {failure[1]}\n--- worker traceback ---\n{failure[2]}")
        return results

    def close(self) -> None:
        if not self._shm:
            return
        for conn in self._conns:
            try:
                conn.send(("close", None))
            except (BrokenPipeError, OSError):
                pass
        for proc in self._procs:
            proc.join(timeout=5)
            if proc.is_alive():
                proc.kill()
        for s in self._shm:
            s.close()
            s.unlink()
        self._shm = []

    def __del__(self):
        if getattr(self, "_shm", None):
            self.close()

    def _tensor(self, array: np.ndarray) -> torch.Tensor:
        # A copy: the shared buffer is overwritten by the next step.
        return torch.tensor(array, dtype=self._obs_dtype, device=self.device)
