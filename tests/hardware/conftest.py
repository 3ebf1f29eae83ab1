import pytest

from sensorimotor.hardware.client import RobotClient
from sensorimotor.hardware.robot import MockRobot
from sensorimotor.hardware.safety import SafetyConfig
from sensorimotor.hardware.server import RobotServer


@pytest.fixture
def served():
    """A MockRobot (100 Hz) served on a free loopback port; yields (robot, server, client factory)."""
    robot = MockRobot()
    server = RobotServer(robot, "tcp://127.0.0.1:0", safety=SafetyConfig(hold_after=3, stop_after=10))
    thread = server.start()
    clients = []

    def client(**kwargs):
        c = RobotClient(server.bound_address, kwargs.pop("spec_hash", robot.spec.hash()), **kwargs)
        clients.append(c)
        return c

    yield robot, server, client
    for c in clients:
        c.close(say_bye=False)
    server.stop()
    thread.join(5)
