"""Registers the memory tasks (tag ``pomdp``): ``CueDelay-v0`` (8 blank steps) and ``CueDelay-Long-v0``
(32). ``make_vec("CueDelay-v0", n, delay=100)`` sets any delay."""

from __future__ import annotations

import functools

from sensorimotor.envs.registry import register
from sensorimotor.sim.memory.cue_delay import CueDelay


def _make(default_delay: int, render_mode: str | None = None, delay: int | None = None, cues: int = 2):
    return CueDelay(delay=default_delay if delay is None else delay, cues=cues, render_mode=render_mode)


register("CueDelay-v0", functools.partial(_make, 8), tags=("pomdp", "memory"))
register("CueDelay-Long-v0", functools.partial(_make, 32), tags=("pomdp", "memory"))
