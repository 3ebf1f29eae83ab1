"""Metrics to JSONL and TensorBoard always, and to wandb when asked (offline without a login)."""

from __future__ import annotations

import json
import math
import os
from typing import Any


class MetricsLogger:
    """Writes ``{"step": n, **metrics}`` lines to ``<run>/metrics.jsonl`` and the same scalars to
    TensorBoard (``<run>/tb``) and, with ``use_wandb``, to a wandb run in ``<run>/wandb``.

    ``resume_step``: a resumed run continues from that checkpoint, so what the killed process logged
    after it is dropped (JSONL rows, TensorBoard's purge step); the curves then have one value per step.
    """

    def __init__(self, run_dir: str, config: dict[str, Any], use_wandb: bool = False, project: str = "sensorimotor",
                 resume_step: int | None = None):
        from torch.utils.tensorboard import SummaryWriter

        os.makedirs(run_dir, exist_ok=True)
        path = os.path.join(run_dir, "metrics.jsonl")
        if resume_step is not None:
            _drop_rows_after(path, resume_step)
        self._jsonl = open(path, "a", buffering=1)
        purge = None if resume_step is None else resume_step + 1
        self._tb = SummaryWriter(os.path.join(run_dir, "tb"), purge_step=purge)
        self._wandb = None
        if use_wandb:
            self._wandb = _start_wandb(run_dir, config, project)

    def log(self, step: int, metrics: dict[str, float]) -> None:
        clean = {k: float(v) for k, v in metrics.items() if v is not None and math.isfinite(float(v))}
        self._jsonl.write(json.dumps({"step": step, **clean}) + "\n")
        for key, value in clean.items():
            self._tb.add_scalar(key, value, step)
        if self._wandb is not None:
            self._wandb.log(clean, step=step)

    def close(self) -> None:
        self._jsonl.close()
        self._tb.close()
        if self._wandb is not None:
            self._wandb.finish()


def _drop_rows_after(path: str, step: int) -> None:
    """Keep the rows of ``path`` (JSONL) logged at or before ``step``; written to a temporary file and
    renamed, so a crash here loses nothing."""
    if not os.path.exists(path):
        return
    with open(path) as f:
        lines = [line for line in f if line.strip()]
    kept = [line for line in lines if json.loads(line).get("step", 0) <= step]
    if len(kept) == len(lines):
        return
    tmp = f"{path}.tmp"
    with open(tmp, "w") as f:
        f.writelines(kept)
    os.replace(tmp, path)


def _start_wandb(run_dir: str, config: dict[str, Any], project: str):
    try:
        import wandb
    except ImportError:
        from sensorimotor.errors import UserError

        raise UserError("--wandb needs the wandb package: pip install 'sensorimotor[wandb]'.") from None
    # Offline unless the user has a login: a run never blocks on the network.
    logged_in = bool(os.environ.get("WANDB_API_KEY")) or os.path.exists(os.path.expanduser("~/.netrc"))
    mode = os.environ.get("WANDB_MODE") or ("online" if logged_in else "offline")
    return wandb.init(project=project, dir=run_dir, config=config, mode=mode,
                      name=os.path.basename(os.path.abspath(run_dir)), reinit="finish_previous")


def read_metrics(run_dir: str) -> list[dict[str, float]]:
    path = os.path.join(run_dir, "metrics.jsonl")
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]
