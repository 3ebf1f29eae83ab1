"""The driving task's settings: one frozen dataclass, each registered variant a named value of it."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Literal

from sensorimotor.errors import check
from sensorimotor.sim.pybullet.driving.scene import CarPhysics, MountedCamera
from sensorimotor.sim.pybullet.driving.track import TrackConfig

# PilotNet's intervention threshold was 1 m off the centre of a ~3.7 m US lane: 0.27 lane widths.
PILOTNET_INTERVENTION_FRACTION = 0.27


@dataclass(frozen=True)
class Appearance:
    """How much the look of the world varies between episodes (0 turns a part off).

    Attributes:
        color_jitter: ground (grass), road and line colours move by up to this much per RGB channel
            around grey-green, dark grey and white.
        light_jitter: the light direction moves by up to this much (unit vector components).
        camera_height: the camera's height moves by up to this many metres.
        camera_pitch: the camera's pitch moves by up to this many degrees.
    """

    color_jitter: float = 0.15
    light_jitter: float = 0.4
    camera_height: float = 0.03
    camera_pitch: float = 3.0

    def validate(self) -> None:
        check(0 <= self.color_jitter <= 0.3, f"color_jitter must be in [0, 0.3], got {self.color_jitter}.")
        check(0 <= self.light_jitter <= 1, f"light_jitter must be in [0, 1], got {self.light_jitter}.")
        check(0 <= self.camera_height <= 0.1, f"camera_height jitter must be in [0, 0.1] m, got {self.camera_height}.")
        check(0 <= self.camera_pitch <= 10, f"camera_pitch jitter must be in [0, 10] degrees, got {self.camera_pitch}.")


@dataclass(frozen=True)
class DriveTaskConfig:
    """One driving task.

    Attributes:
        split: ``train`` draws a new random track every ``episodes_per_track`` episodes; ``test`` uses
            one of ``test_tracks`` held-out tracks (seed ``s`` drives track ``s % test_tracks``, an
            unseeded reset the next track in turn), from a seed stream no training track is drawn from.
        test_tracks: how many held-out tracks there are.
        episodes_per_track: ``train`` only: episodes on one track before a new one is built (a build
            costs ~50 ms; a new start point and look are drawn every episode).
        track: the family tracks are drawn from.
        camera: the front camera (PilotNet's 200 x 66 by default).
        physics: physics and control rates, motor forces.
        appearance: what varies in the look of the world.
        speed: the rear wheels' speed (m/s); the policy steers only, unless ``throttle``.
        throttle: the action is (steering, throttle) and the wheels turn at ``speed`` x throttle
            (throttle clipped to [0, 1]: zero or less brakes); the camera alone cannot tell the speed,
            so this is for served cars (the bridge's car spec) rather than for learning.
        laps: the episode ends (truncated) after this many laps.
        cross_track_penalty: reward = metres of progress along the centre line - this x |cross-track
            error| (m) x the control period (s).
        start_offset: ``train`` only: the car starts up to this far off the centre line (m) and this
            many tenths of a radian off its heading (test episodes start centred).
        interventions: instead of ending the episode when the car leaves the road, recentre it when it
            is more than ``intervention_fraction`` x lane width off the centre line and count an
            intervention (PilotNet's evaluation; see ``autonomy.py``).
        intervention_fraction: the intervention distance as a share of the lane width.
        render_scale: ``render()`` shows the front camera this many times enlarged beside a top-down view.
    """

    split: Literal["train", "test"] = "train"
    test_tracks: int = 20
    episodes_per_track: int = 4
    track: TrackConfig = field(default_factory=TrackConfig)
    camera: MountedCamera = field(default_factory=MountedCamera)
    physics: CarPhysics = field(default_factory=CarPhysics)
    appearance: Appearance = field(default_factory=Appearance)
    speed: float = 1.5
    throttle: bool = False
    laps: float = 3.0
    cross_track_penalty: float = 1.0
    start_offset: float = 0.15
    interventions: bool = False
    intervention_fraction: float = PILOTNET_INTERVENTION_FRACTION
    render_scale: int = 2

    @property
    def control_period(self) -> float:
        """Seconds per action."""
        return self.physics.steps_per_action / self.physics.physics_hz

    def validate(self) -> None:
        """Raise :class:`UserError` with one line for a value out of range."""
        check(self.split in ("train", "test"), f"split must be 'train' or 'test', got {self.split!r}.")
        check(1 <= self.test_tracks <= 10_000, f"test_tracks must be 1..10000, got {self.test_tracks}.")
        check(1 <= self.episodes_per_track, f"episodes_per_track must be >= 1, got {self.episodes_per_track}.")
        check(0.2 <= self.speed <= 5.0, f"speed must be in [0.2, 5] m/s, got {self.speed}.")
        check(0 < self.laps <= 100, f"laps must be in (0, 100], got {self.laps}.")
        check(self.cross_track_penalty >= 0, f"cross_track_penalty must be >= 0, got {self.cross_track_penalty}.")
        check(0 <= self.start_offset <= 0.5, f"start_offset must be in [0, 0.5] m, got {self.start_offset}.")
        check(0.05 <= self.intervention_fraction <= 0.5,
              f"intervention_fraction must be in [0.05, 0.5] lane widths, got {self.intervention_fraction}.")
        check(1 <= self.render_scale <= 8, f"render_scale must be 1..8, got {self.render_scale}.")
        c = self.camera
        check(16 <= c.width <= 640 and 16 <= c.height_px <= 480,
              f"camera image must be 16..640 x 16..480 pixels, got {c.width}x{c.height_px}.")
        check(1 <= c.fov <= 120 and -30 <= c.pitch <= 90 and 0.05 <= c.height <= 2,
              "camera fov must be 1..120 degrees, pitch -30..90 degrees and height 0.05..2 m.")
        check(self.physics.control_hz <= self.physics.physics_hz, "control_hz cannot exceed physics_hz.")
        self.track.validate()
        self.appearance.validate()


# The registered variants (see __init__.py for their ids).
DRIVE = DriveTaskConfig()
DRIVE_64 = DriveTaskConfig(camera=MountedCamera(width=64, height_px=64, fov=60.0))
DRIVE_TEST = replace(DRIVE, split="test")
DRIVE_64_TEST = replace(DRIVE_64, split="test")
