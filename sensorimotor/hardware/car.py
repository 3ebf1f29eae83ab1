"""The car's ``RobotSpec``: steering and throttle, both normalized, commanded as efforts.

- ``steering`` in [-1, 1] (+1 full left), ``throttle`` in [``-max_reverse``, ``max_throttle``]: the
  upper bound is the speed limit (a share of the car's top speed), enforced by the server's safety
  layer whatever the client sends.
- ``max_command_step``: the largest change of either command in one control period (the safety layer
  rate-limits against the last command), so a policy cannot slam the steering or the throttle.
- A zero command is the safe one: centred steering, neutral throttle (the ESC brakes / the sim car's
  wheels are held at zero speed). The safety layer sends it while holding and after a stop, so the
  watchdog (no goal for ``hold_after`` periods) and a latched e-stop both brake the car to a standstill.
"""

from __future__ import annotations

import math

from sensorimotor.hardware.spec import CameraSpec, JointSpec, RobotSpec


def car_spec(name: str = "car", max_throttle: float = 0.5, max_reverse: float = 0.3, control_period_s: float = 0.05,
             max_change_per_s: float = 6.0, camera: tuple[int, int] | None = (66, 200),
             observed_speed: bool = True) -> RobotSpec:
    """A steering + throttle car at ``1 / control_period_s`` Hz with a front camera ``(height, width)``
    served with each state (None: the camera is the client's, e.g. ``deploy --camera opencv:0``), and
    its measured ``speed`` (m/s) when ``observed_speed``."""
    if not 0 < max_throttle <= 1 or not 0 <= max_reverse <= 1:
        raise ValueError(f"max_throttle must be in (0, 1] and max_reverse in [0, 1], got {max_throttle}, {max_reverse}")
    joints = (JointSpec("steering", unit="normalized", lower=-1.0, upper=1.0, max_velocity=math.inf),
              JointSpec("throttle", unit="normalized", lower=-max_reverse if max_reverse else -1e-9,
                        upper=max_throttle, max_velocity=math.inf))
    cameras = (CameraSpec("camera", camera[0], camera[1], fps=1.0 / control_period_s),) if camera else ()
    return RobotSpec(name=name, joints=joints, action="effort", control_period_s=control_period_s,
                     observation=(("speed", 1),) if observed_speed else (), max_command_step=max_change_per_s * control_period_s,
                     cameras=cameras)
