"""``sensorimotor average RUN --checkpoints A B ...``: one policy from the mean of a run's checkpoints.

Averaging the weights of several checkpoints of one run (stochastic weight averaging, Izmailov et al.
2018; Nikishin et al. 2018 for RL) gives a policy from the middle of the region the late updates
wander through. Measure it against the single checkpoints: on CarRacing it matched the best of them
and did not beat it (``benchmarks/results.md``, ``carracing_ppo_beta_average``). The result is a new
run directory with one checkpoint, which ``evaluate``, ``export``, ``autonomy`` and ``deploy`` take
like any other (``train --resume`` on it continues from the averaged weights with the newest
checkpoint's optimizer state). Training keeps only ``--keep-checkpoints`` (3) checkpoints: raise it
for a run whose window you want to average.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass

import torch
import tyro

from sensorimotor.app.run_dir import RunDir
from sensorimotor.errors import UserError, check
from sensorimotor.utils.checkpoint import load_checkpoint, save_checkpoint

PROVENANCE = "averaged.json"


@dataclass(frozen=True)
class AverageArgs:
    """Average the weights of two or more checkpoints of a run into a new run directory."""

    run: tyro.conf.Positional[str]
    """A directory written by ``sensorimotor train``."""
    checkpoints: tuple[str, ...] = ()
    """Two or more of its checkpoints (``step_<n>`` or ``<n>``), averaged with equal weights."""
    out: str | None = None
    """The new run directory; default ``<RUN>-avg-<first step>-<last step>``."""


def average_weights(weights: list[dict[str, torch.Tensor]], names: list[str]) -> dict[str, torch.Tensor]:
    """The element-wise mean of ``weights`` (each one checkpoint's tensors), computed in float64 and
    cast back. Tensors equal in every checkpoint (fixed buffers such as action bounds) and integer
    tensors are taken unchanged from the last; a key or shape that differs between checkpoints is a
    :class:`UserError` naming the two (``names``: where each dict came from)."""
    check(len(weights) >= 2, f"averaging needs two or more checkpoints, got {len(weights)}.")
    first = weights[0]
    for other, name in zip(weights[1:], names[1:]):
        if set(other) != set(first):
            diff = sorted(set(other) ^ set(first))[:3]
            raise UserError(f"{names[0]} and {name} hold different networks (keys {diff}): average checkpoints "
                            "of one run.")
        for key, tensor in other.items():
            if tensor.shape != first[key].shape:
                raise UserError(f"{names[0]} and {name} hold different networks ({key}: {tuple(first[key].shape)} "
                                f"vs {tuple(tensor.shape)}): average checkpoints of one run.")
    averaged = {}
    for key, last in weights[-1].items():
        same = all(torch.equal(w[key], last) for w in weights[:-1])
        if same or not last.is_floating_point():
            averaged[key] = last.clone()
        else:
            averaged[key] = (sum(w[key].double() for w in weights) / len(weights)).to(last.dtype)
    return averaged


def average_checkpoints(args: AverageArgs) -> dict:
    """Write the averaged run directory; returns what it wrote (``out``, ``step``, ``checkpoints``)."""
    source = RunDir(args.run)
    spec, run, config = source.read()
    check(len(args.checkpoints) >= 2,
          f"name two or more checkpoints of {args.run} to average: --checkpoints A B ... (got {len(args.checkpoints)}).")
    paths = [source.checkpoint(which) for which in args.checkpoints]
    check(len(set(paths)) == len(paths), f"--checkpoints names a checkpoint twice: {' '.join(args.checkpoints)}.")
    loaded = [load_checkpoint(path) for path in paths]
    order = sorted(range(len(paths)), key=lambda i: int(loaded[i][1]["step"]))  # oldest first
    paths, loaded = [paths[i] for i in order], [loaded[i] for i in order]
    steps = [int(state["step"]) for _, state in loaded]
    out = args.out or f"{os.path.normpath(args.run)}-avg-{steps[0]}-{steps[-1]}"
    check(not os.path.exists(os.path.join(out, "config.json")),
          f"{out} is already a run directory; pass --out with a new path or delete it.")
    weights = average_weights([w for w, _ in loaded], paths)
    # The newest checkpoint's state goes with the averaged weights: its step, its normalizer statistics
    # (for runs that normalize observations: average checkpoints close together).
    state = loaded[-1][1]
    RunDir(out).write_config(spec.name, run, config)
    metrics = os.path.join(args.run, "metrics.jsonl")
    if os.path.isfile(metrics):
        shutil.copyfile(metrics, os.path.join(out, "metrics.jsonl"))
    save_checkpoint(out, steps[-1], weights, state, keep=1)
    summary = {"out": out, "step": steps[-1], "source": os.path.normpath(args.run), "checkpoints": steps}
    with open(os.path.join(out, PROVENANCE), "w") as f:
        json.dump(summary, f, indent=2)
    return summary
