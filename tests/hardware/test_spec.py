"""RobotSpec: frame conversion by hand, hash sensitivity, validation."""

import numpy as np
import pytest

from sensorimotor.hardware.robot import planar_arm_spec
from sensorimotor.hardware.spec import JointSpec, RobotSpec


def test_raw_frame_conversion():
    spec = RobotSpec("arm", (JointSpec("a", sign=-1.0, offset=0.5), JointSpec("b", offset=-1.0)))
    np.testing.assert_allclose(spec.to_raw([0.2, 0.3]), [-0.2 + 0.5, 0.3 - 1.0])
    np.testing.assert_allclose(spec.from_raw([0.3, -0.7]), [0.2, 0.3])


def test_hash_changes_with_order_units_and_limits_and_survives_a_round_trip():
    spec = planar_arm_spec()
    assert RobotSpec.from_dict(spec.to_dict()).hash() == spec.hash()
    swapped = RobotSpec.from_dict({**spec.to_dict(), "joints": [j.__dict__ for j in spec.joints[::-1]]})
    assert swapped.hash() != spec.hash()
    joints = (spec.joints[0], JointSpec("elbow", unit="deg", lower=-2.5, upper=2.5, max_velocity=3.0))
    assert RobotSpec.from_dict({**spec.to_dict(), "joints": [j.__dict__ for j in joints]}).hash() != spec.hash()
    assert planar_arm_spec(period_s=0.02).hash() != spec.hash()


@pytest.mark.parametrize("kwargs, match", [
    ({"action": "torque"}, "action must be"), ({"joints": ()}, "at least one joint"),
    ({"control_period_s": 0.0}, "positive"), ({"joints": (JointSpec("a", lower=1, upper=0),)}, "below upper"),
    ({"joints": (JointSpec("a", sign=2.0),)}, "sign"), ({"park": (0.0, 0.0)}, "park has 2"),
])
def test_invalid_specs_are_refused(kwargs, match):
    base = {"name": "r", "joints": (JointSpec("a"),)}
    with pytest.raises(ValueError, match=match):
        RobotSpec(**{**base, **kwargs})
