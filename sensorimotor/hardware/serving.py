"""``sensorimotor serve --robot KIND[:ARG]``: any registered robot (``hardware/registry.py``) behind the
bridge server: ``mock``, ``sim:HalfCheetah-v5``, or a real driver registered by its package.

Lockstep (sim robots) advances the simulation only when a goal answers the latest state (evaluation
parity with in-process rollouts); without it the robot runs free at its control rate. Ctrl-C or
SIGTERM: hold -> park -> release; SIGUSR1 or Enter (with ``--keyboard-estop``): latching e-stop.
"""

from __future__ import annotations

import logging
import sys
import threading
from dataclasses import dataclass, field

from sensorimotor.errors import UserError


@dataclass(frozen=True)
class ServeArgs:
    """Serve a robot over the bridge protocol (loopback unless a secret is given)."""

    robot: str = "sim:HalfCheetah-v5"
    """``KIND[:ARG]`` from the hardware registry: ``mock``, ``sim:<env id>``, or a registered driver."""
    address: str = "tcp://127.0.0.1:5555"
    lockstep: bool = False
    seed: int = 0
    """Sim robots: the simulation's seed."""
    camera: tuple[int, int] | None = None
    """Sim robots: (height, width) of rendered frames served with every state."""
    options: dict[str, str] = field(default_factory=dict)
    """Sim arm and sim car: task options, e.g. ``--options interventions true laps 1``."""
    secret_file: str | None = None
    hold_after: int = 3
    """Periods without a valid goal before the robot holds."""
    stop_after: int = 25
    """Periods without a valid goal before the robot stops (latched)."""
    max_periods: int | None = None
    keyboard_estop: bool = False
    """Read the terminal: Enter latches an e-stop, ``reset`` + Enter clears it."""


def serve(args: ServeArgs) -> dict:
    """Serve until interrupted (or ``max_periods``); returns the server's statistics."""
    from sensorimotor.hardware.deploy import _read_secret
    from sensorimotor.hardware.registry import make_robot
    from sensorimotor.hardware.safety import SafetyConfig
    from sensorimotor.hardware.server import RobotServer

    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(message)s")
    logging.getLogger("sensorimotor").setLevel(logging.INFO)
    try:
        from sensorimotor.utils.options import parse_options

        robot = make_robot(args.robot, seed=args.seed, camera=args.camera, options=parse_options(args.options))
        safety = SafetyConfig(args.hold_after, args.stop_after)
    except ValueError as exc:
        raise UserError(str(exc)) from None
    server = RobotServer(robot, args.address, secret=_read_secret(args.secret_file), safety=safety,
                         lockstep=args.lockstep)
    print(f"serving {robot.spec.name} (spec hash {robot.spec.hash()}) at {args.address}"
          f"{' in lockstep' if args.lockstep else ''}", flush=True)
    if args.keyboard_estop:
        threading.Thread(target=_keyboard, args=(server,), daemon=True).start()
        print("keyboard: Enter = e-stop, 'reset' + Enter = clear it", flush=True)
    stats = server.serve(max_periods=args.max_periods, handle_signals=True)
    print(f"served {stats.periods} periods, {stats.goals_applied} goals applied, {stats.goals_rejected} rejected, "
          f"{stats.overruns} overruns", flush=True)
    return {"periods": stats.periods, "goals_applied": stats.goals_applied, "goals_rejected": stats.goals_rejected,
            "overruns": stats.overruns}


def _keyboard(server) -> None:
    for line in sys.stdin:
        if line.strip() == "reset":
            server.request_reset("keyboard")
        else:
            server.estop("keyboard")
