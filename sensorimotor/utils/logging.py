"""Metrics to JSONL and TensorBoard always, and to wandb when asked (offline without a login)."""

from __future__ import annotations

import json
import math
import os
from typing import Any


# TensorBoard and wandb tags are grouped as CleanRL and rsl_rl users know them: ``charts/`` (episodes,
# schedules, replay), ``time/`` (throughput), ``losses/`` (everything an update returns). metrics.jsonl
# keeps the plain names.
CHARTS = {"episode_return", "episode_length", "episodes", "epsilon", "priority_beta", "learning_rate", "clip_range",
          "replay_size", "action_std", "alpha", "explained_variance"}
TIME = {"steps_per_second", "rollout_seconds", "update_seconds"}


def tag(name: str) -> str:
    """``episode_return -> charts/episode_return``, ``steps_per_second -> time/steps_per_second``,
    ``value_loss -> losses/value_loss``."""
    if "/" in name:
        return name
    return f"charts/{name}" if name in CHARTS else f"time/{name}" if name in TIME else f"losses/{name}"


_LISTENERS: list = []


def add_metrics_listener(listener) -> None:
    """Also call ``listener(step, metrics)`` for every row any :class:`MetricsLogger` of this process
    logs (``sensorimotor tune`` reports each row of a trial to Ray Tune this way)."""
    _LISTENERS.append(listener)


def remove_metrics_listener(listener) -> None:
    if listener in _LISTENERS:
        _LISTENERS.remove(listener)


class MetricsLogger:
    """Writes ``{"step": n, **metrics}`` lines to ``<run>/metrics.jsonl`` and the same scalars to
    TensorBoard (``<run>/tb``) and, with ``use_wandb``, to a wandb run in ``<run>/wandb``, there under
    grouped tags (:func:`tag`).

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
        tagged = {tag(key): value for key, value in clean.items()}
        for key, value in tagged.items():
            self._tb.add_scalar(key, value, step)
        if self._wandb is not None:
            self._wandb.log(tagged, step=step)
        for listener in list(_LISTENERS):
            listener(step, clean)

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
