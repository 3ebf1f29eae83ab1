"""One PyBullet physics client per world, without ``BulletClient``.

Hot loops call the raw module functions with ``physicsClientId=`` (DESIGN.md 6: half the cost of a
``BulletClient`` call). :func:`import_pybullet` turns a missing wheel into one line that names the extra.
"""

from __future__ import annotations

import os
from types import ModuleType

from sensorimotor.errors import UserError


def import_pybullet() -> ModuleType:
    """The ``pybullet`` module, or a :class:`UserError` saying how to install it."""
    try:
        import pybullet
    except ImportError as exc:
        raise UserError("PyBullet is not installed: pip install 'sensorimotor[pybullet]' "
                        "(or pip install pybullet).") from exc
    return pybullet


def data_path() -> str:
    """The folder of ``pybullet_data`` (Kuka, tray, table, random_urdfs, racecar, textures)."""
    import_pybullet()
    import pybullet_data

    return pybullet_data.getDataPath()


def asset(relative: str) -> str:
    """Absolute path of a ``pybullet_data`` file, e.g. ``asset("tray/tray.urdf")``."""
    return os.path.join(data_path(), relative)


def connect(time_step: float = 1 / 240, solver_iterations: int = 50, gravity: float = -10.0) -> int:
    """A new headless (``DIRECT``) client with the world settings every scene uses; returns its id.

    Never loads the EGL plugin: on a CPU machine it renders on llvmpipe at 8-10 ms a frame and takes
    over TinyRenderer calls too (DESIGN.md 6).
    """
    p = import_pybullet()
    client = p.connect(p.DIRECT)
    configure(client, time_step, solver_iterations, gravity)
    return client


def configure(client: int, time_step: float, solver_iterations: int, gravity: float = -10.0) -> None:
    """Settings lost by ``resetSimulation``: time step (s), solver iterations, gravity (m/s^2)."""
    p = import_pybullet()
    p.setTimeStep(time_step, physicsClientId=client)
    p.setPhysicsEngineParameter(numSolverIterations=solver_iterations, physicsClientId=client)
    p.setGravity(0, 0, gravity, physicsClientId=client)


def disconnect(client: int) -> None:
    """Close a client; safe to call twice."""
    p = import_pybullet()
    try:
        p.disconnect(physicsClientId=client)
    except p.error:
        pass
