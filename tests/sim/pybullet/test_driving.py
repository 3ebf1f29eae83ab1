"""The driving world: tracks, the pure-pursuit expert, interventions, augmentation and the autonomy metric."""

import math

import numpy as np
import pytest
import torch

from sensorimotor.envs import make, make_vec
from sensorimotor.errors import UserError
from sensorimotor.sim.pybullet.driving.autonomy import autonomy
from sensorimotor.sim.pybullet.driving.scene import MountedCamera
from sensorimotor.sim.pybullet.driving.track import Track, TrackConfig, generate_track, turn_radii

TINY_CAMERA = MountedCamera(width=16, height_px=16)  # the expert needs no pixels: cheap renders


def circle(radius=5.0, count=628):
    theta = np.linspace(0, 2 * math.pi, count, endpoint=False)
    return Track(np.stack([radius * np.cos(theta), radius * np.sin(theta)], axis=1), width=1.0)


def test_projection_on_a_circle_gives_signed_cross_track_and_arc_length():
    track = circle()
    # A point at angle pi/2, 0.3 m inside the circle: left of the counter-clockwise driving direction.
    foot = track.project([0.0, 4.7])
    assert foot.cross_track == pytest.approx(0.3, abs=1e-3)
    assert foot.s == pytest.approx(track.length / 4, abs=0.01)
    assert foot.heading == pytest.approx(math.pi, abs=0.01)  # tangent points along -x at the top
    assert track.project([0.0, 5.4]).cross_track == pytest.approx(-0.4, abs=1e-3)
    assert track.length == pytest.approx(2 * math.pi * 5.0, rel=1e-3)


def test_tracks_are_reproducible_and_respect_the_tightest_bend():
    config = TrackConfig()
    a, b = generate_track(np.random.default_rng(3), config), generate_track(np.random.default_rng(3), config)
    assert np.array_equal(a.points, b.points) and a.width == b.width
    assert turn_radii(a.points, 10).min() >= config.min_turn_radius
    assert config.width[0] <= a.width <= config.width[1]
    gaps = np.linalg.norm(np.diff(a.points, axis=0), axis=1)
    assert gaps.max() - gaps.min() < 0.01  # equally spaced


def test_autonomy_hand_worked():
    assert autonomy(0, 60.0) == 1.0
    assert autonomy(10, 600.0) == pytest.approx(0.9)  # 1 - 60 / 600
    assert autonomy(1, 120.0) == pytest.approx(0.95)  # 1 - 6 / 120
    assert autonomy(30, 100.0) == 0.0  # never below zero
    with pytest.raises(ValueError):
        autonomy(1, 0.0)


@pytest.mark.parametrize("seed", range(20))
def test_the_expert_completes_a_lap_on_every_test_track(seed):
    env = make("RacecarDrive-Test-v0", laps=1.0, camera=TINY_CAMERA)
    try:
        env.reset(seed=seed)
        task, done, worst = env.unwrapped, False, 0.0
        while not done:
            _, _, terminated, truncated, info = env.step(task.expert_action())
            worst = max(worst, abs(float(info["cross_track_error"])))
            done = terminated or truncated
        assert not terminated and info["progress"] >= 1.0, f"track {seed}: {info}"
        assert worst < 0.15, f"track {seed}: {worst:.3f} m off the centre line"
    finally:
        env.close()


def test_leaving_the_road_ends_the_episode_and_interventions_recentre_instead():
    for interventions in (False, True):
        env = make("RacecarDrive-Test-v0", camera=TINY_CAMERA, interventions=interventions)
        env.reset(seed=0)
        hard_left = np.array([1.0], np.float32)
        for step in range(200):
            _, _, terminated, truncated, info = env.step(hard_left)
            if terminated or info["interventions"] > 0:
                break
        if interventions:
            assert not terminated and info["interventions"] == 1
            assert abs(info["cross_track_error"]) < 0.1  # back near the centre line
        else:
            assert terminated and info["interventions"] == 0
        env.close()


def test_augmented_views_are_labelled_with_corrective_steering():
    env = make("RacecarDrive-Test-v0")
    try:
        env.reset(seed=1)
        task = env.unwrapped
        centre = float(task.expert_action()[0])
        pixels, actions = task.augmented_views(4, max_shift=0.3, max_rotation=0.0, rng=np.random.default_rng(0))
        assert pixels.shape == (4, 3, 66, 200) and pixels.dtype == np.uint8 and actions.shape == (4, 1)
        shifts = np.random.default_rng(0).uniform(-0.3, 0.3, 4)  # augmented_views draws the shifts first
        for shift, label in zip(shifts, actions[:, 0]):
            # Moved left (shift > 0) the expert steers right (more negative) than from the centre.
            assert np.sign(centre - label) == np.sign(shift), (shift, centre, label)
        assert not np.array_equal(pixels[0], pixels[1])
    finally:
        env.close()


def test_expert_action_in_vector_info_labels_the_returned_observation_even_after_autoreset():
    env = make_vec("RacecarDrive-v0", 2, backend="sync", camera=TINY_CAMERA)
    try:
        env.reset(seed=5)
        resets = 0
        for _ in range(80):
            _, _, terminated, truncated, info = env.step(torch.ones(2, 1))  # hard left: leaves the road
            for i, task in enumerate(e.unwrapped for e in env.envs):
                assert info["expert_action"][i].item() == pytest.approx(float(task.expert_action()[0]), abs=1e-5)
            resets += int((terminated | truncated).sum())
        assert resets >= 2
    finally:
        env.close()


def test_bad_driving_options_are_one_line_errors():
    with pytest.raises(UserError, match="unknown driving option"):
        make("RacecarDrive-v0", sped=2.0)
    with pytest.raises(UserError, match="speed must be"):
        make("RacecarDrive-v0", speed=50.0)


def test_each_held_out_track_is_one_scenario_however_it_is_reached():
    """Seed k in process and the k-th reset of a served car (unseeded resets take the next track)
    render the same first frame: same track, look, light and camera."""
    cycling, seeded = make("RacecarDrive64-Test-v0"), make("RacecarDrive64-Test-v0")
    try:
        cycling.reset(seed=0)
        cycling.reset()
        third, _ = cycling.reset()
        expected, _ = seeded.reset(seed=2)
        assert np.array_equal(third, expected)
        other, _ = seeded.reset(seed=3)
        assert not np.array_equal(third, other)
    finally:
        cycling.close()
        seeded.close()


def test_the_front_camera_never_draws_the_car_and_the_top_down_view_does():
    # Just after a reset the car settles nose down and, drawn, its nose shows at the frame's bottom edge
    # (track 0 of the training split); hidden, the frame is the one with no car in the world at all.
    env = make("RacecarDrive-v0")
    try:
        env.reset(seed=0)
        task = env.unwrapped
        scene = task.scene
        env.step(task.expert_action())
        (x, y, _), yaw = scene.car_pose()
        frame = scene.render(task._camera, (x, y), yaw, task._light)
        scene.show_car(True)
        assert not np.array_equal(scene.render(task._camera, (x, y), yaw, task._light), frame), \
            "this pose should show the car's nose when the car is drawn"
        scene.show_car(False)
        top = scene.render_top_down((x, y), 96, span=6.0)
        assert np.array_equal(scene.render(task._camera, (x, y), yaw, task._light), frame)  # hidden again
        scene.p.resetBasePositionAndOrientation(scene.car, [50.0, 50.0, 0.05], [0, 0, 0, 1],
                                                physicsClientId=scene.client)
        assert np.array_equal(scene.render(task._camera, (x, y), yaw, task._light), frame)
        assert not np.array_equal(scene.render_top_down((x, y), 96, span=6.0), top)  # the car was in it
    finally:
        env.close()
