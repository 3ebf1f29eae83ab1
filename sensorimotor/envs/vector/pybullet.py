"""``pybullet`` backend: PyBullet worlds stepped in worker processes, one per core.

PyBullet never releases the GIL, so threads give nothing; two spawned workers give 1.9-2.0x on two
cores and four are 3-13% worse than two (DESIGN.md 6). This is the ``subproc`` machinery (shared-memory
observations, ``Dict`` observations, worker tracebacks, clean shutdown on Ctrl-C, SIGTERM and parent
death) with PyBullet's defaults: one worker per core, each in its own session (``os.setsid``) so the
scheduler gives each its own share under load (measured: 325 env-steps/s against 161 without).
"""

from __future__ import annotations

import torch

from sensorimotor.envs.vector.subproc import SubprocVecEnv


class PyBulletVecEnv(SubprocVecEnv):
    """``num_envs`` PyBullet tasks over ``num_workers`` processes (default: one per core)."""

    def __init__(self, env_id: str, num_envs: int, device: torch.device, num_workers: int | None = None, **kwargs):
        from sensorimotor.sim.pybullet.client import import_pybullet

        import_pybullet()  # a missing wheel is one line here, not a traceback from every worker
        super().__init__(env_id, num_envs, device, num_workers=num_workers, new_session=True, **kwargs)
