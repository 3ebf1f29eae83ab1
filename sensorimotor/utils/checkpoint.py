"""Checkpoints that survive a kill at any moment (DESIGN.md 2.4).

``<run>/checkpoints/step_<n>/`` holds ``weights.safetensors`` (model weights) and ``state.pt``
(optimizer, normalizers, RNG, counters; loaded with ``weights_only=True`` so a file can never run
code). Both are written into a hidden temporary directory that is renamed into place only once
complete: a partially written checkpoint is never seen as one.

Large optional parts (a DQN replay: hundreds of MB) go in as extra ``<name>.safetensors`` files of
the same directory, and only the newest checkpoint keeps them.
"""

from __future__ import annotations

import os
import re
import shutil
from typing import Any

import torch
from safetensors.torch import load_file, save_file

from sensorimotor.errors import UserError

_STEP_DIR = re.compile(r"^step_(\d+)$")
WEIGHTS, STATE = "weights.safetensors", "state.pt"


def save_checkpoint(run_dir: str, step: int, weights: dict[str, torch.Tensor], state: dict[str, Any],
                    keep: int = 3, extra: dict[str, dict[str, torch.Tensor]] | None = None) -> str:
    """Write checkpoint ``step`` atomically and keep only the ``keep`` newest; returns its path.
    ``extra`` maps file names to tensors saved beside the weights, kept in the newest checkpoint only."""
    root = os.path.join(run_dir, "checkpoints")
    os.makedirs(root, exist_ok=True)
    final = os.path.join(root, f"step_{step}")
    tmp = os.path.join(root, f".tmp_step_{step}_{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(tmp)
    save_file({k: v.detach().cpu().contiguous() for k, v in weights.items()}, os.path.join(tmp, WEIGHTS))
    torch.save(state, os.path.join(tmp, STATE))
    extra_files = [f"{name}.safetensors" for name in (extra or {})]
    for name, tensors in (extra or {}).items():
        save_file({k: v.detach().cpu().contiguous() for k, v in tensors.items()}, os.path.join(tmp, f"{name}.safetensors"))
    for name in (WEIGHTS, STATE, *extra_files):
        with open(os.path.join(tmp, name), "rb") as f:
            os.fsync(f.fileno())
    if os.path.exists(final):
        shutil.rmtree(final)
    os.replace(tmp, final)
    checkpoints = list_checkpoints(run_dir)
    for old in checkpoints[:-keep]:
        shutil.rmtree(old, ignore_errors=True)
    for old in checkpoints[-keep:-1]:
        for name in extra_files:
            if os.path.exists(os.path.join(old, name)):
                os.remove(os.path.join(old, name))
    return final


def load_extra(path: str, name: str, device: str | torch.device = "cpu") -> dict[str, torch.Tensor] | None:
    """The ``extra`` tensors ``name`` saved with the checkpoint at ``path``, or None if it has none."""
    file = os.path.join(path, f"{name}.safetensors")
    if not os.path.isfile(file):
        return None
    try:
        return load_file(file, device=str(device))
    except Exception as exc:  # noqa: BLE001 - safetensors raises its own types
        raise UserError(f"{file} is corrupt or unreadable ({type(exc).__name__}); delete it to resume "
                        f"without it.") from None


def list_checkpoints(run_dir: str) -> list[str]:
    """Complete checkpoint directories, oldest first (temporary directories are ignored)."""
    root = os.path.join(run_dir, "checkpoints")
    if not os.path.isdir(root):
        return []
    found = [(int(m.group(1)), os.path.join(root, d)) for d in os.listdir(root) if (m := _STEP_DIR.match(d))]
    return [path for _, path in sorted(found)]


def latest_checkpoint(run_dir: str) -> str | None:
    checkpoints = list_checkpoints(run_dir)
    return checkpoints[-1] if checkpoints else None


def chosen_checkpoint(run_dir: str, which: str | None) -> str | None:
    """The checkpoint of ``run_dir`` named by ``which`` (``step_<n>`` or ``<n>``), or the last complete
    one when ``which`` is None (None if there is none); a :class:`UserError` listing the checkpoints
    the run has when ``which`` names none of them."""
    if which is None:
        return latest_checkpoint(run_dir)
    name = which if _STEP_DIR.match(which) else f"step_{which}"
    checkpoints = list_checkpoints(run_dir)
    for path in checkpoints:
        if os.path.basename(path) == name:
            return path
    have = ", ".join(os.path.basename(path) for path in checkpoints) or "none"
    raise UserError(f"{run_dir} has no checkpoint {which!r} (it has: {have}; training keeps the 3 newest); "
                    "pass one of those to --checkpoint.")


def load_checkpoint(path: str, device: str | torch.device = "cpu") -> tuple[dict[str, torch.Tensor], dict]:
    """``(weights, state)`` of the checkpoint at ``path``; a clear :class:`UserError` if it is
    missing, truncated, corrupt, or not one of ours."""
    weights_path, state_path = os.path.join(path, WEIGHTS), os.path.join(path, STATE)
    if not (os.path.isfile(weights_path) and os.path.isfile(state_path)):
        raise UserError(f"{path} is not a sensorimotor checkpoint (needs {WEIGHTS} and {STATE}).")
    try:
        weights = load_file(weights_path, device=str(device))
        state = torch.load(state_path, map_location=device, weights_only=True)
    except Exception as exc:  # noqa: BLE001 - safetensors, pickle and zip all raise their own types
        reason = str(exc).strip().splitlines()[0][:120] if str(exc).strip() else type(exc).__name__
        raise UserError(f"checkpoint {path} is corrupt or unreadable ({reason}); delete it to resume "
                        "from the one before.") from None
    if not isinstance(state, dict) or "step" not in state:
        raise UserError(f"checkpoint {path} holds no training state: not written by sensorimotor.")
    return weights, state
