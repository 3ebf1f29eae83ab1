"""``sensorimotor serve --robot KIND[:ARG]`` serves any robot of the hardware registry."""

from tests.helpers import run_cli


def test_serve_a_registered_robot_by_name():
    result = run_cli("serve", "--robot", "mock", "--address", "tcp://127.0.0.1:5741", "--max-periods", "30",
                     timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "serving mock-planar-arm" in result.stdout and "served 30 periods" in result.stdout


def test_serve_the_grasping_arm():
    result = run_cli("serve", "--robot", "sim-arm:KukaGraspCube-v0", "--address", "tcp://127.0.0.1:5742",
                     "--max-periods", "10", timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "serving sim-kuka-grasp" in result.stdout and "served 10 periods" in result.stdout


def test_unknown_or_incomplete_robot_names_are_one_line():
    for robot, message in [("mokc", "unknown robot 'mokc' (did you mean mock?)"), ("sim", "sim:<env id>"),
                           ("sim-arm:CartPole-v1", "not a grasping task")]:
        result = run_cli("serve", "--robot", robot, timeout=120)
        lines = result.stderr.strip().splitlines()
        assert result.returncode == 2 and len(lines) == 1 and message in lines[0], result.stderr[-2000:]
