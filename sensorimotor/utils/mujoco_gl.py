"""Import MuJoCo so that training works without OpenGL and rendering fails with a clear error.

MuJoCo loads the backend named by ``MUJOCO_GL`` when it is imported and fails there, deep in
PyOpenGL, when the library is missing (a bare GPU server, a container without libEGL). Training and
evaluation without video need no rendering, so on such a failure MuJoCo is imported again with its GL
context disabled and the error is kept for the first frame someone asks for.
"""

from __future__ import annotations

import os
import sys

from sensorimotor.errors import UserError

GL_HELP = ("set MUJOCO_GL=egl (Debian: apt-get install libegl1 libegl-mesa0 libgl1-mesa-dri) or "
           "MUJOCO_GL=osmesa (libosmesa6); `make` installs the EGL packages")
_IMPORT_ERRORS = (ImportError, AttributeError, RuntimeError, OSError)
_render_error: str | None = None


def import_mujoco():
    """``import mujoco``; if its rendering backend cannot load, import it without one."""
    global _render_error
    try:
        import mujoco

        return mujoco
    except _IMPORT_ERRORS as exc:
        reason = " ".join(str(exc).split())[:160]
        message = (f"MuJoCo cannot load its rendering backend MUJOCO_GL={os.environ.get('MUJOCO_GL')!r} "
                   f"({type(exc).__name__}: {reason}); {GL_HELP}.")
    for name in [m for m in sys.modules if m == "mujoco" or m.startswith(("mujoco.", "OpenGL"))]:
        del sys.modules[name]  # the half-imported modules would otherwise be reused
    os.environ["MUJOCO_GL"] = "disable"
    try:
        import mujoco
    except _IMPORT_ERRORS:
        raise UserError(message) from None
    _render_error = message
    return mujoco


def require_rendering() -> None:
    """Raise the kept :class:`UserError` if MuJoCo was imported without a rendering backend."""
    if _render_error is not None:
        raise UserError(_render_error)
