"""A driver's settings as a JSON file read into its frozen dataclass, with one-line errors."""

from __future__ import annotations

import json
import os
from dataclasses import fields

from sensorimotor.errors import UserError, check


def load_settings(cls, path: str, what: str, start_hint: str):
    """``cls(**json)`` from ``path``, validated. ``what`` names the file in errors ("car calibration");
    ``start_hint`` says how to write a first one. JSON lists become tuples (the dataclasses' fields)."""
    check(os.path.isfile(path), f"{what} {path!r} not found: {start_hint}")
    try:
        data = json.load(open(path))
    except json.JSONDecodeError as exc:
        raise UserError(f"{what} {path} is not JSON: {exc}") from None
    check(isinstance(data, dict), f"{what} {path} is not a JSON object of settings.")
    known = {f.name for f in fields(cls)}
    unknown = sorted(set(data) - known)
    check(not unknown, f"{what} {path}: unknown key(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}.")
    settings = cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in data.items()})
    settings.validate()
    return settings
