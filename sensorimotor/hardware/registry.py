"""Robots and cameras by name, as ``envs.registry`` does for envs: ``make_robot("mock")``,
``make_robot("sim:HalfCheetah-v5")``, ``make_camera("opencv:0")``. Drivers for real hardware
register themselves here (``register_robot("myarm", MyArm)``) and are then reachable from the CLI."""

from __future__ import annotations

import difflib
from typing import Callable

from sensorimotor.hardware.cameras.base import Camera, CameraError
from sensorimotor.hardware.robot import MockRobot, Robot

_ROBOTS: dict[str, Callable[..., Robot]] = {}
_CAMERAS: dict[str, Callable[[str], Camera]] = {}


def register_robot(kind: str, factory: Callable[..., Robot]) -> None:
    """``factory(argument, **options)`` builds the robot for ``kind:argument`` (argument may be empty);
    ``options`` (``seed``, ``camera``...) are the serve flags, for the factories that use them."""
    _ROBOTS[kind] = factory


def register_camera(kind: str, factory: Callable[[str], Camera]) -> None:
    """``factory(argument)`` builds the camera for ``kind:argument`` (argument may be empty)."""
    _CAMERAS[kind] = factory


def make_robot(uri: str, **options) -> Robot:
    kind, _, argument = uri.partition(":")
    if kind not in _ROBOTS:
        close = difflib.get_close_matches(kind, list(_ROBOTS), n=3)
        hint = f" (did you mean {', '.join(close)}?)" if close else ""
        raise ValueError(f"unknown robot {kind!r}{hint}; known: {', '.join(sorted(_ROBOTS))}")
    return _ROBOTS[kind](argument, **options)


def make_camera(uri: str) -> Camera:
    """``opencv:0``, ``opencv:/dev/v4l/by-id/...``, ``opencv:video.mp4``, ``opencv:rtsp://...``,
    ``realsense`` or ``realsense:SERIAL``, ``mock`` or ``mock:HxW@FPS``, or a registered driver's kind."""
    kind, _, argument = uri.partition(":")
    if kind not in _CAMERAS:
        raise CameraError(f"unknown camera {uri!r}: use opencv:INDEX|PATH|URL, realsense[:SERIAL], mock[:HxW@FPS] "
                          f"(known kinds: {', '.join(sorted(_CAMERAS))})")
    return _CAMERAS[kind](argument)


def list_robots() -> list[str]:
    return sorted(_ROBOTS)


def list_cameras() -> list[str]:
    return sorted(_CAMERAS)


def _sim(argument: str, seed: int | None = 0, camera: tuple[int, int] | None = None, **_) -> Robot:
    from sensorimotor.hardware.sim_robot import SimRobot

    if not argument:
        raise ValueError("a sim robot needs its task: sim:<env id>, e.g. sim:HalfCheetah-v5")
    return SimRobot(argument, seed=seed, camera=camera)


def _sim_arm(argument: str, seed: int | None = 0, options: dict | None = None, **_) -> Robot:
    from sensorimotor.hardware.sim_arm import SimGraspArm

    return SimGraspArm(argument or "KukaGrasp-v0", seed=seed, **(options or {}))


def _sim_car(argument: str, seed: int | None = 0, options: dict | None = None, **_) -> Robot:
    from sensorimotor.hardware.sim_car import SimCar

    return SimCar(argument or "RacecarDrive-Test-v0", seed=seed, **(options or {}))


def _pca9685_car(argument: str, **_) -> Robot:
    from sensorimotor.hardware.pca9685_car import PCA9685Car

    if not argument:
        raise ValueError("a PCA9685 car needs its calibration file: pca9685-car:car.json")
    return PCA9685Car(argument)


def _opencv(argument: str) -> Camera:
    from sensorimotor.hardware.cameras.opencv import opencv_from_uri

    return opencv_from_uri(argument)


def _realsense(argument: str) -> Camera:
    from sensorimotor.hardware.cameras.realsense import RealSenseCamera

    return RealSenseCamera(argument or None)


def _mock_camera(argument: str) -> Camera:
    from sensorimotor.hardware.cameras.mock import mock_from_uri

    return mock_from_uri(argument)


def _xarm(argument: str, **_) -> Robot:
    from sensorimotor.hardware.xarm import XArmGraspArm

    if not argument:
        raise ValueError("an xArm needs its config file: xarm:xarm.json (docs/hardware.md, 'A real arm')")
    return XArmGraspArm(argument)


register_robot("mock", lambda argument, **_: MockRobot())
register_robot("sim", _sim)
register_robot("sim-arm", _sim_arm)
register_robot("sim-car", _sim_car)
register_robot("pca9685-car", _pca9685_car)
register_robot("xarm", _xarm)
register_camera("opencv", _opencv)
register_camera("realsense", _realsense)
register_camera("mock", _mock_camera)
