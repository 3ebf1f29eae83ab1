"""The camera grasping world: what the agent sees, what counts as success, and what is refused."""

from dataclasses import replace

import numpy as np
import pytest

pytest.importorskip("pybullet")

from sensorimotor.envs import make  # noqa: E402
from sensorimotor.errors import UserError  # noqa: E402
from sensorimotor.sim.pybullet.grasping.config import GRASP, GRASP_CUBE  # noqa: E402
from sensorimotor.sim.pybullet.grasping.objects import TARGET_COLOR, object_files  # noqa: E402
from sensorimotor.sim.pybullet.grasping.scene import TRAY_FLOOR_Z  # noqa: E402
from sensorimotor.sim.pybullet.grasping.scripted import ScriptedGrasper, grasp_yaw  # noqa: E402
from sensorimotor.sim.pybullet.grasping.task import GraspEnv  # noqa: E402


def run_scripted(env, episodes, seed):
    policy = ScriptedGrasper(env.config)
    successes = 0
    env.reset(seed=seed)
    for episode in range(episodes):
        if episode:
            env.reset()
        done = False
        while not done:
            _, reward, done, truncated, info = env.step(policy.act(env.privileged()))
            assert not truncated
        successes += info["grasp_success"]
        assert reward == float(info["grasp_success"])
    return successes / episodes


def test_the_scripted_grasper_lifts_the_single_cube_in_at_least_90_percent_of_episodes():
    env = GraspEnv(replace(GRASP_CUBE, reset_mode="fresh"))  # fresh: every episode a new layout
    assert run_scripted(env, 40, seed=7) >= 0.9
    env.close()


def test_the_scripted_grasper_also_works_with_the_qtopt_action_layout():
    """Close (gripper > 0), then terminate: the arm lifts and success is judged (measured ~90%)."""
    env = GraspEnv(replace(GRASP, objects="cube", num_objects=1, reset_mode="fresh"))
    assert run_scripted(env, 20, seed=3) >= 0.75
    env.close()


def test_random_actions_rarely_grasp_and_episodes_end_within_max_steps():
    env = make("KukaGraspCube-v0")
    env.reset(seed=0)
    lengths, successes, length = [], 0, 0
    while len(lengths) < 15:
        _, reward, done, _, info = env.step(env.action_space.sample())
        length += 1
        if done:
            lengths.append(length)
            successes += info["grasp_success"]
            length = 0
            env.reset()
    assert max(lengths) <= 8 and successes <= 5
    env.close()


def test_the_camera_image_changes_with_the_arm_and_with_the_objects():
    env = GraspEnv(replace(GRASP, reset_mode="fresh"))
    first, _ = env.reset(seed=1)
    assert first["pixels"].shape == (3, 64, 64) and first["pixels"].dtype == np.uint8
    assert first["pixels"].std() > 10  # a scene, not a blank frame
    moved, *_ = env.step(np.array([1.0, 1.0, -1.0, 0.0, -1.0, -1.0], np.float32))
    arm_change = np.abs(moved["pixels"].astype(int) - first["pixels"].astype(int))
    assert (arm_change.max(axis=0) > 30).sum() > 20  # the arm moved in view
    other, _ = env.reset(seed=2)  # other objects in other places, arm back home
    object_change = np.abs(other["pixels"].astype(int) - first["pixels"].astype(int))
    assert (object_change.max(axis=0) > 30).sum() > 10
    assert moved["state"][2] == pytest.approx(1 / 15) and first["state"][0] == 0.0
    env.close()


def test_success_counts_only_lifted_objects_of_the_target_colour():
    import pybullet as p

    env = GraspEnv(replace(GRASP, targeted=True, reset_mode="fresh"))
    env.reset(seed=4)
    scene, is_target = env.scene, env.privileged()["is_target"]
    assert is_target[0] and (~is_target).any(), "seed 4 has a non-target object"
    colors = [p.getVisualShapeData(b, physicsClientId=scene.client)[0][7] for b in scene.objects]
    assert all(np.allclose(c, TARGET_COLOR) == t for c, t in zip(colors, is_target))
    assert not env.lifted()
    other = scene.objects[int(np.flatnonzero(~is_target)[0])]
    p.resetBasePositionAndOrientation(other, [0.6, 0.0, 0.3], [0, 0, 0, 1], physicsClientId=scene.client)
    assert not env.lifted()  # a lifted object of the wrong colour earns nothing
    p.resetBasePositionAndOrientation(scene.objects[0], [0.6, 0.1, 0.3], [0, 0, 0, 1], physicsClientId=scene.client)
    assert env.lifted()
    assert scene.object_bottoms()[0] > TRAY_FLOOR_Z + 0.1
    env.close()


def test_object_splits_are_disjoint_and_sized_as_the_original():
    train, test = object_files("train"), object_files("test")
    assert len(train) == 900 and len(test) == 100 and not set(train) & set(test)
    assert all(path.split("/")[-2].endswith("0") for path in test)


def test_pool_resets_restore_settled_layouts_and_swap_objects_every_k_episodes():
    env = GraspEnv(replace(GRASP, pool_size=3, swap_objects_every=4))
    env.reset(seed=0)
    first_objects = list(env.scene.objects), env.scene.object_positions()
    starts = [env.privileged()["object_positions"]]
    for _ in range(3):
        env.reset()
        starts.append(env.privileged()["object_positions"])
    # Three settled layouts of the same objects: every start is one of them, at rest in the tray.
    distinct = {tuple(np.round(s.ravel(), 4)) for s in starts}
    assert 1 <= len(distinct) <= 3
    assert all((s[:, 2] < TRAY_FLOOR_Z + 0.15).all() for s in starts)
    env.reset()  # the fifth episode: a new object set
    assert not np.allclose(env.scene.object_positions(), first_objects[1])
    env.close()


def test_depth_observation_is_in_metres():
    env = make("KukaGrasp-v0", camera=replace(GRASP.camera, depth=True))
    obs, _ = env.reset(seed=0)
    assert obs["depth"].shape == (1, 64, 64) and obs["depth"].dtype == np.float32
    assert 0.3 < float(np.median(obs["depth"])) < 3.0  # the tray is about a metre from the camera
    env.close()


def test_grasp_yaw_puts_the_fingers_across_the_object_within_the_measured_range():
    """The gripper turns by minus the object's yaw, folded by pi/2 into [-0.3, pi/2 - 0.3)."""
    assert grasp_yaw(0.0) == pytest.approx(0.0)
    assert grasp_yaw(0.2) == pytest.approx(-0.2)
    assert grasp_yaw(-0.5) == pytest.approx(0.5)
    assert grasp_yaw(0.5) == pytest.approx(np.pi / 2 - 0.5)  # -0.5 is outside the range: turn the other way
    assert grasp_yaw(0.2 + np.pi / 2) == pytest.approx(-0.2)  # a quarter turn of the object is the same grasp


@pytest.mark.parametrize("options,words", [
    ({"num_objects": 0}, "num_objects must be 1..10"),
    ({"image_size": 4}, "image size must be 8..1024"),
    ({"objects": "kitchen"}, "objects must be one of"),
    ({"max_steps": 0}, "max_steps must be 1..100"),
    ({"camera": replace(GRASP.camera, fov=0.0)}, "fov must be 1..120"),
    ({"colour": "red"}, "unknown grasping option(s) colour"),
])
def test_bad_options_are_refused_in_one_line(options, words):
    with pytest.raises(UserError) as caught:
        make("KukaGrasp-v0", **options)
    assert words in str(caught.value) and "\n" not in str(caught.value)


def test_a_negative_seed_is_refused_in_one_line():
    env = make("KukaGraspCube-v0")
    with pytest.raises(UserError, match=r"seed must be an integer in \[0, 2\*\*63\)"):
        env.reset(seed=-1)
    env.close()


def test_a_missing_pybullet_names_the_extra_to_install(monkeypatch):
    import sys

    from sensorimotor.sim.pybullet.client import import_pybullet

    monkeypatch.setitem(sys.modules, "pybullet", None)
    with pytest.raises(UserError, match=r"pip install 'sensorimotor\[pybullet\]'"):
        import_pybullet()
