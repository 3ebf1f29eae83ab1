"""Registers VizDoom scenarios (tags ``doom``, ``pixels``, ``pomdp``): first-person pixels, so what
is behind the agent or around a corner is only in its memory. Needs the ``vizdoom`` extra."""

from __future__ import annotations

import functools

from sensorimotor.envs.registry import register

# id -> scenario file; episode limits come from the scenarios (2100 tics = 525 steps at frame skip 4).
# v0: one button per action; v1: combinations of buttons (turn while moving, see DoomEnv).
SCENARIOS = {
    "Doom-Basic-v0": "basic",
    "Doom-MyWayHome-v0": "my_way_home",
    "Doom-HealthGathering-v0": "health_gathering",
    "Doom-DefendTheCenter-v0": "defend_the_center",
}


def _make(scenario: str, actions: str, render_mode: str | None = None, frame_skip: int = 4):
    from sensorimotor.envs.doom import DoomEnv

    return DoomEnv(scenario, frame_skip=frame_skip, actions=actions, render_mode=render_mode)


for _id, _scenario in SCENARIOS.items():
    register(_id, functools.partial(_make, _scenario, "single"), tags=("doom", "pixels", "pomdp"))
    register(_id.replace("-v0", "-v1"), functools.partial(_make, _scenario, "combos"), tags=("doom", "pixels", "pomdp"))
