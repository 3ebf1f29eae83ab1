"""Importing JAX and MJX next to torch: memory, compile cache and a clear error when they are missing.

Three things must happen before ``import jax`` and nowhere else, so every JAX user goes through
:func:`import_mjx`:

- ``XLA_PYTHON_CLIENT_PREALLOCATE=false``: by default XLA takes 75% of the GPU at start-up, which
  leaves torch (the agent) out of memory. Without preallocation JAX allocates as it goes.
- JAX's persistent compilation cache (``~/.cache/sensorimotor/jax``, or ``$SENSORIMOTOR_JAX_CACHE``):
  a second run of the same task and env count loads the compiled step instead of compiling it again.
- ``mujoco.mjx`` prints two lines about its optional Warp backend when ``warp`` is not installed;
  they are swallowed, since the JAX implementation we use does not need it.
"""

from __future__ import annotations

import contextlib
import io
import os

from sensorimotor.errors import UserError

MJX_HELP = ("install the extra: pip install 'sensorimotor[mjx]' (JAX on the CPU); on a CUDA machine also "
            "pip install 'jax[cuda12]'")
_configured = False


def cache_dir() -> str:
    """Where compiled MJX functions are kept between runs."""
    default = os.path.join(os.path.expanduser("~"), ".cache", "sensorimotor", "jax")
    return os.environ.get("SENSORIMOTOR_JAX_CACHE", default)


def import_mjx():
    """``(jax, jax.numpy, mujoco.mjx)``, configured; :class:`UserError` naming the extra if missing."""
    global _configured
    os.environ.setdefault("XLA_PYTHON_CLIENT_PREALLOCATE", "false")
    try:
        import jax
        import jax.numpy as jnp

        with contextlib.redirect_stdout(io.StringIO()):
            from mujoco import mjx
    except ImportError as exc:
        raise UserError(f"the mjx backend needs jax and mujoco-mjx ({exc.name or exc} is missing): {MJX_HELP}.") from None
    if not _configured:
        _configured = True
        jax.config.update("jax_compilation_cache_dir", cache_dir())  # JAX's default: entries that took >= 1 s
    return jax, jnp, mjx


def jax_device_for(torch_device) -> object:
    """The JAX device that shares memory with ``torch_device`` (``cpu`` or ``cuda:i``)."""
    jax, _, _ = import_mjx()
    if torch_device.type == "cpu":
        return jax.devices("cpu")[0]
    if torch_device.type != "cuda":
        raise UserError(f"the mjx backend runs on cpu or cuda devices, not {torch_device}.")
    try:
        gpus = jax.devices("gpu")
    except RuntimeError:
        raise UserError(f"device {torch_device} asked for, but JAX sees no GPU: pip install 'jax[cuda12]'.") from None
    index = torch_device.index or 0
    if index >= len(gpus):
        raise UserError(f"device {torch_device} asked for, but JAX sees {len(gpus)} GPU(s).")
    return gpus[index]
