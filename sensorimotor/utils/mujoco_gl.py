"""Import MuJoCo with a clear error when its OpenGL backend (``MUJOCO_GL``) cannot load."""

from __future__ import annotations

import os

from sensorimotor.errors import UserError

GL_HELP = ("set MUJOCO_GL=egl (Debian: apt-get install libegl1 libegl-mesa0 libgl1-mesa-dri) or "
           "MUJOCO_GL=osmesa (libosmesa6); `make` installs the EGL packages")


def import_mujoco():
    """``import mujoco``, turning a rendering-backend failure at import into a :class:`UserError`.

    MuJoCo loads the backend named by ``MUJOCO_GL`` when it is imported and fails there, deep in
    PyOpenGL, when the library is missing.
    """
    try:
        import mujoco
    except (ImportError, AttributeError, RuntimeError, OSError) as exc:
        reason = " ".join(str(exc).split())[:160]
        raise UserError(f"MuJoCo cannot load its rendering backend MUJOCO_GL={os.environ.get('MUJOCO_GL')!r} "
                        f"({type(exc).__name__}: {reason}); {GL_HELP}.") from None
    return mujoco
