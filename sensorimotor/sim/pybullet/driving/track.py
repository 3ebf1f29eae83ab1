"""Procedural closed tracks: a smooth random loop as a centre line sampled every ``spacing`` metres.

A track is a star-shaped loop around the origin, ``r(theta) = R (1 + sum_k a_k cos(k theta + phi_k))``
for k = 2..4 (a polar curve with ``r > 0`` never crosses itself), redrawn until its tightest bend
is no sharper than ``min_turn_radius``. The car drives counter-clockwise (increasing theta).
Everything here is numpy and deterministic in the generator passed in.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from sensorimotor.errors import check


@dataclass(frozen=True)
class TrackConfig:
    """The family tracks are drawn from.

    Attributes:
        radius: mean radius of the loop, drawn from this range (m).
        wobble: the largest amplitude of each harmonic, as a fraction of the radius.
        width: lane width, drawn from this range (m); the edges sit ``width / 2`` off the centre line.
        min_turn_radius: the tightest bend allowed (m); the racecar turns no tighter than ~0.6 m.
        spacing: distance between centre-line samples (m).
    """

    radius: tuple[float, float] = (3.5, 5.0)
    wobble: float = 0.12
    width: tuple[float, float] = (1.0, 1.4)
    min_turn_radius: float = 1.5
    spacing: float = 0.05

    def validate(self) -> None:
        check(0.5 <= self.radius[0] <= self.radius[1] <= 50, f"track radius range must be within [0.5, 50] m, got {self.radius}.")
        check(0.0 <= self.wobble <= 0.3, f"track wobble must be in [0, 0.3], got {self.wobble}.")
        check(0.4 <= self.width[0] <= self.width[1] <= 5, f"track width range must be within [0.4, 5] m, got {self.width}.")
        check(0.5 <= self.min_turn_radius < self.radius[0], "min_turn_radius must be >= 0.5 m and below the radius range.")
        check(0.01 <= self.spacing <= 0.5, f"track spacing must be in [0.01, 0.5] m, got {self.spacing}.")


@dataclass(frozen=True)
class Projection:
    """Where a point lies relative to the centre line.

    Attributes:
        index: nearest centre-line sample.
        s: arc length of the foot point from the start (m, in [0, length)).
        cross_track: signed distance from the centre line (m; > 0 left of the driving direction).
        heading: the centre line's direction at the foot point (rad, world frame).
    """

    index: int
    s: float
    cross_track: float
    heading: float


class Track:
    """A closed centre line ``points [M, 2]`` (m), equally spaced, counter-clockwise, and a lane width."""

    def __init__(self, points: np.ndarray, width: float):
        self.points = np.asarray(points, dtype=np.float64)
        self.width = float(width)
        step = np.roll(self.points, -1, axis=0) - self.points
        self.segment = np.linalg.norm(step, axis=1)
        self.tangent = step / self.segment[:, None]
        self.normal = np.stack([-self.tangent[:, 1], self.tangent[:, 0]], axis=1)  # left of the tangent
        self.s = np.concatenate([[0.0], np.cumsum(self.segment)[:-1]])
        self.length = float(self.segment.sum())

    def __len__(self) -> int:
        return len(self.points)

    def project(self, xy, hint: int | None = None, window: int = 60) -> Projection:
        """The foot point of ``xy`` (m) on the centre line; searches ``window`` samples either side of
        ``hint`` (the last index: the car moves a few samples per step) or the whole loop without one."""
        xy = np.asarray(xy, dtype=np.float64)
        m = len(self.points)
        if hint is None or 2 * window + 1 >= m:
            candidates = np.arange(m)
        else:
            candidates = np.arange(hint - window, hint + window + 1) % m
        offset = xy - self.points[candidates]
        along = np.clip((offset * self.tangent[candidates]).sum(axis=1), 0.0, self.segment[candidates])
        foot = self.points[candidates] + along[:, None] * self.tangent[candidates]
        best = int(np.argmin(((xy - foot) ** 2).sum(axis=1)))
        i = int(candidates[best])
        cross = float(((xy - self.points[i]) * self.normal[i]).sum())
        heading = math.atan2(self.tangent[i, 1], self.tangent[i, 0])
        return Projection(i, float(self.s[i] + along[best]), cross, heading)

    def point_at(self, s: float) -> np.ndarray:
        """The centre-line point at arc length ``s`` (m, wrapped), ``[2]``."""
        s = s % self.length
        i = int(np.searchsorted(self.s, s, side="right") - 1)
        return self.points[i] + (s - self.s[i]) * self.tangent[i]

    def pose_at(self, s: float, lateral: float = 0.0) -> tuple[np.ndarray, float]:
        """``(xy [2], heading rad)`` ``lateral`` metres left of the centre line at arc length ``s``."""
        i = int(np.searchsorted(self.s, s % self.length, side="right") - 1)
        return self.point_at(s) + lateral * self.normal[i], math.atan2(self.tangent[i, 1], self.tangent[i, 0])


def turn_radii(points: np.ndarray, stride: int) -> np.ndarray:
    """Radius of the circle through each point and its neighbours ``stride`` samples away, ``[M]`` (m)."""
    a, b, c = np.roll(points, stride, axis=0), points, np.roll(points, -stride, axis=0)
    ab, bc, ca = (np.linalg.norm(u - v, axis=1) for u, v in ((a, b), (b, c), (c, a)))
    cross = np.abs((b[:, 0] - a[:, 0]) * (c[:, 1] - a[:, 1]) - (b[:, 1] - a[:, 1]) * (c[:, 0] - a[:, 0]))
    return ab * bc * ca / np.maximum(2.0 * cross, 1e-12)


def generate_track(rng: np.random.Generator, config: TrackConfig = TrackConfig(), attempts: int = 100) -> Track:
    """A random loop from ``config``'s family; the same generator state gives the same track."""
    theta = np.linspace(0.0, 2 * math.pi, 4096, endpoint=False)
    for _ in range(attempts):
        radius = rng.uniform(*config.radius)
        amplitudes = rng.uniform(-config.wobble, config.wobble, size=3)
        phases = rng.uniform(0.0, 2 * math.pi, size=3)
        r = radius * (1.0 + sum(a * np.cos(k * theta + phi) for k, a, phi in zip((2, 3, 4), amplitudes, phases)))
        dense = np.stack([r * np.cos(theta), r * np.sin(theta)], axis=1)
        points = resample(dense, config.spacing)
        width = rng.uniform(*config.width)
        stride = max(1, int(round(0.5 / config.spacing)))  # judge bends over half a metre
        if turn_radii(points, stride).min() >= config.min_turn_radius:
            return Track(points, width)
    raise RuntimeError(f"no track with turns wider than {config.min_turn_radius} m in {attempts} draws; "
                       "lower wobble or min_turn_radius.")


def resample(loop: np.ndarray, spacing: float) -> np.ndarray:
    """A closed polyline ``[N, 2]`` resampled to equal steps of about ``spacing`` metres."""
    closed = np.vstack([loop, loop[:1]])
    s = np.concatenate([[0.0], np.cumsum(np.linalg.norm(np.diff(closed, axis=0), axis=1))])
    count = max(8, int(round(s[-1] / spacing)))
    targets = np.linspace(0.0, s[-1], count, endpoint=False)
    return np.stack([np.interp(targets, s, closed[:, 0]), np.interp(targets, s, closed[:, 1])], axis=1)
