"""Cameras: fresh frames, and each failure (stale, frozen, unplugged, frame-rate collapse) as a clear
CameraError. The OpenCV backend is checked on a real MP4 file written and decoded back."""

import time

import imageio.v3 as iio
import numpy as np
import pytest

from sensorimotor.hardware.cameras import CameraError, MockCamera, OpenCVCamera, frame_to_policy
from sensorimotor.hardware.registry import make_camera


def test_read_latest_gives_fresh_frames_and_measures_fps():
    with MockCamera(32, 48, fps=100) as cam:
        first = cam.read()
        time.sleep(0.2)
        frame = cam.read_latest(max_age_s=0.05)
        assert frame.image.shape == (32, 48, 3) and frame.image.dtype == np.uint8
        assert frame.index > first.index
        assert 60 < cam.fps < 140


def test_frame_rate_collapse_makes_the_newest_frame_stale():
    with MockCamera(fps=100) as cam:
        cam.read()
        cam.slow_down(2.0)
        time.sleep(0.7)
        with pytest.raises(CameraError, match="ms old"):
            cam.read_latest(max_age_s=0.1)


def test_frozen_camera_is_detected():
    with MockCamera(fps=200, frozen_after=5) as cam:
        cam.read()
        cam.freeze()
        time.sleep(0.1)
        with pytest.raises(CameraError, match="identical frames"):
            cam.read_latest(max_age_s=1.0)


def test_unplugged_camera_raises_instead_of_serving_the_last_frame():
    with MockCamera(fps=100) as cam:
        cam.read()
        cam.unplug()
        time.sleep(0.1)
        with pytest.raises(CameraError, match="unplugged"):
            cam.read_latest(max_age_s=10.0)
        with pytest.raises(CameraError, match="unplugged"):
            cam.read(timeout_s=0.2)


def test_opencv_reads_a_video_file_then_reports_its_end(tmp_path):
    path = str(tmp_path / "clip.mp4")
    frames = np.zeros((10, 64, 80, 3), np.uint8)
    frames[:, :, :40, 0] = 200  # left half red
    iio.imwrite(path, frames, fps=30, codec="libx264")
    cam = make_camera(f"opencv:{path}")
    assert isinstance(cam, OpenCVCamera)
    with cam:
        frame = cam.read(timeout_s=2.0)
        assert frame.image.shape == (64, 80, 3)
        assert frame.image[32, 10, 0] > 150 and frame.image[32, 70, 0] < 50  # RGB order, not BGR
        time.sleep(0.3)
        with pytest.raises(CameraError, match="ended"):
            cam.read_latest(max_age_s=10.0)


def test_missing_device_and_unknown_uri_fail_clearly():
    with pytest.raises(CameraError, match="cannot open"):
        OpenCVCamera("/dev/v4l/by-id/no-such-camera").start()
    with pytest.raises(CameraError, match="unknown camera"):
        make_camera("webcam0")


def test_frame_to_policy_resizes_and_converts_to_channels_first_gray():
    image = np.zeros((120, 160, 3), np.uint8)
    image[..., 1] = 100
    out = frame_to_policy(image, (1, 60, 80))
    assert out.shape == (1, 60, 80) and out.dtype == np.uint8
    assert out[0, 30, 40] == round(100 * 0.587)
    assert frame_to_policy(image, (3, 120, 160)).shape == (3, 120, 160)


def test_registry_builds_robots_and_cameras_by_name():
    from sensorimotor.hardware.registry import list_cameras, make_camera, make_robot

    assert make_robot("mock").spec.name == "mock-planar-arm"
    assert make_robot("sim:Pendulum-v1").spec.action_size == 1
    with pytest.raises(ValueError, match="did you mean mock"):
        make_robot("mokc")
    assert isinstance(make_camera("mock:24x32@10"), MockCamera) and "opencv" in list_cameras()
    with pytest.raises(CameraError, match="unknown camera"):
        make_camera("usb:0")
