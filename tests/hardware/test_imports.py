"""The README's imports work, and the hardware side stays free of torch."""

import subprocess
import sys


def test_mocks_import_from_the_hardware_package_without_torch():
    code = ("import sys; from sensorimotor.hardware import MockCamera, MockRobot; "
            "robot = MockRobot(); print(type(robot).__name__, 'torch' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.split() == ["MockRobot", "False"]
