"""Robots and cameras by name, as ``envs.registry`` does for envs: ``make_robot("mock")``,
``make_robot("sim:HalfCheetah-v5")``, ``make_camera("opencv:0")``. Drivers for real hardware
register themselves here (``register_robot("myarm", MyArm)``) and are then reachable from the CLI."""

from __future__ import annotations

import difflib
from typing import Callable

from sensorimotor.hardware.camera import Camera, CameraError, open_camera
from sensorimotor.hardware.robot import MockRobot, Robot

_ROBOTS: dict[str, Callable[[str], Robot]] = {}
_CAMERAS: dict[str, Callable[[str], Camera]] = {}


def register_robot(kind: str, factory: Callable[[str], Robot]) -> None:
    """``factory(argument)`` builds the robot for ``kind:argument`` (argument may be empty)."""
    _ROBOTS[kind] = factory


def register_camera(kind: str, factory: Callable[[str], Camera]) -> None:
    _CAMERAS[kind] = factory


def make_robot(uri: str) -> Robot:
    kind, _, argument = uri.partition(":")
    if kind not in _ROBOTS:
        close = difflib.get_close_matches(kind, list(_ROBOTS), n=3)
        hint = f" (did you mean {', '.join(close)}?)" if close else ""
        raise ValueError(f"unknown robot {kind!r}{hint}; known: {', '.join(sorted(_ROBOTS))}")
    return _ROBOTS[kind](argument)


def make_camera(uri: str) -> Camera:
    kind = uri.partition(":")[0]
    if kind not in _CAMERAS:
        raise CameraError(f"unknown camera {uri!r}: known kinds {', '.join(sorted(_CAMERAS))}")
    return _CAMERAS[kind](uri)


def list_robots() -> list[str]:
    return sorted(_ROBOTS)


def list_cameras() -> list[str]:
    return sorted(_CAMERAS)


def _sim(argument: str) -> Robot:
    from sensorimotor.hardware.sim_robot import SimRobot

    return SimRobot(argument)


register_robot("mock", lambda argument: MockRobot())
register_robot("sim", _sim)
for _kind in ("opencv", "realsense", "mock"):
    register_camera(_kind, open_camera)
