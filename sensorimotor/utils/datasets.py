"""Episode datasets on disk: a folder of record files (``utils/recordfile.py``) plus ``dataset.json``.

Written by ``sensorimotor collect`` (scripted experts, random policies) and read by offline learners.
Layout::

    DATASET/dataset.json        {"format": 1, "env": ..., "policy": ..., "seed": ..., "options": {...}}
    DATASET/part-00000.smrec    step records of whole episodes, appended and flushed step by step

A step record holds ``episode`` (its index: seed ``seed + episode``), ``step``, ``reward``,
``terminated``, ``truncated``, the env's dense info values, and arrays ``obs.<key>`` (``obs`` for a
plain array observation) and ``action``; the last step of an episode also holds ``next_obs.<key>``,
the observation after it. Collections with ``--augment V`` add ``aug.obs [V, ...]`` and
``aug.action [V, A]``: views from shifted camera poses with the expert's labels. A kill loses only the episode being written: :func:`read_episodes` yields
complete episodes only, and a resumed collection writes the unfinished ones again.
"""

from __future__ import annotations

import glob
import json
import os
from collections import defaultdict
from collections.abc import Iterator
from typing import Any

import numpy as np

from sensorimotor.errors import UserError
from sensorimotor.utils.recordfile import Recorder, read_recording

FORMAT = 1
SCALARS = ("episode", "step", "reward", "terminated", "truncated")


def _flatten(prefix: str, observation) -> dict[str, np.ndarray]:
    if isinstance(observation, dict):
        return {f"{prefix}.{k}": np.asarray(v) for k, v in observation.items()}
    return {prefix: np.asarray(observation)}


def _unflatten(prefix: str, arrays: dict[str, np.ndarray]):
    if prefix in arrays:
        return arrays[prefix]
    return {name[len(prefix) + 1:]: value for name, value in arrays.items() if name.startswith(prefix + ".")}


class EpisodeWriter:
    """Appends episodes to one part file of a dataset folder (one writer per process)."""

    def __init__(self, folder: str, part: int, header: dict[str, Any]):
        self.recorder = Recorder(os.path.join(folder, f"part-{part:05d}.smrec"), {"part": part, **header})

    def step(self, episode: int, step: int, observation, action, reward: float, terminated: bool, truncated: bool,
             info: dict[str, Any], next_observation=None, extra_arrays: dict[str, np.ndarray] | None = None) -> None:
        arrays = {**_flatten("obs", observation), "action": np.asarray(action), **(extra_arrays or {})}
        if next_observation is not None:
            arrays.update(_flatten("next_obs", next_observation))
        scalars = {k: (v.item() if hasattr(v, "item") else v) for k, v in info.items()}
        self.recorder.write(arrays, episode=int(episode), step=int(step), reward=float(reward),
                            terminated=bool(terminated), truncated=bool(truncated), info=scalars)

    def close(self) -> None:
        self.recorder.close()


def write_manifest(folder: str, manifest: dict[str, Any]) -> None:
    """Create ``dataset.json``, or check that an existing one describes the same collection."""
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, "dataset.json")
    manifest = {"format": FORMAT, **manifest}
    if os.path.exists(path):
        with open(path) as f:
            existing = json.load(f)
        if existing != json.loads(json.dumps(manifest)):
            raise UserError(f"{folder} holds another collection ({existing.get('env')}, policy "
                            f"{existing.get('policy')}, seed {existing.get('seed')}): choose another --out.")
        return
    with open(path, "w") as f:
        json.dump(manifest, f, indent=1)


def read_manifest(folder: str) -> dict[str, Any]:
    path = os.path.join(folder, "dataset.json")
    if not os.path.exists(path):
        raise UserError(f"{folder} is not an episode dataset (no dataset.json); write one with `sensorimotor collect`.")
    with open(path) as f:
        return json.load(f)


def part_files(folder: str) -> list[str]:
    return sorted(glob.glob(os.path.join(folder, "part-*.smrec")))


def read_episodes(folder: str) -> Iterator[dict[str, Any]]:
    """Complete episodes, in file order: ``{"episode", "obs" [T, ...] (dict or array), "action" [T, A],
    "reward" [T], "terminated" [T], "truncated" [T], "next_obs" (after the last step), "info" {k: [T]}}``,
    and ``"augmented" {"obs" [T, V, ...], "action" [T, V, A]}`` when the collection rendered them."""
    read_manifest(folder)
    for path in part_files(folder):
        current: list[dict] = []
        for record in read_recording(path):
            if record.get("kind") != "step":
                continue
            if current and (record["episode"] != current[0]["episode"] or record["step"] == 0):
                current = []  # the previous episode was cut short (a kill): dropped
            current.append(record)
            if record["terminated"] or record["truncated"]:
                yield _episode(current)
                current = []


def _episode(records: list[dict]) -> dict[str, Any]:
    arrays = defaultdict(list)
    for r in records:
        for name, value in r["arrays"].items():
            if not name.startswith("next_obs"):
                arrays[name].append(value)
    stacked = {name: np.stack(values) for name, values in arrays.items()}
    info_keys = records[0]["info"].keys()
    episode = {"episode": records[0]["episode"], "obs": _unflatten("obs", stacked), "action": stacked["action"],
               "reward": np.array([r["reward"] for r in records], np.float32),
               "terminated": np.array([r["terminated"] for r in records]),
               "truncated": np.array([r["truncated"] for r in records]),
               "next_obs": _unflatten("next_obs", records[-1]["arrays"]),
               "info": {k: np.array([r["info"][k] for r in records]) for k in info_keys}}
    if "aug.obs" in stacked:
        episode["augmented"] = {"obs": stacked["aug.obs"], "action": stacked["aug.action"]}
    return episode


def complete_episodes(folder: str) -> set[int]:
    """Indices of the episodes already whole on disk (what a resumed collection skips)."""
    if not os.path.exists(os.path.join(folder, "dataset.json")):
        return set()
    return {e["episode"] for e in read_episodes(folder)}
