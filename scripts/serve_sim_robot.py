"""Serve a registered sim task as a robot over the bridge protocol (loopback by default).

    python scripts/serve_sim_robot.py --env HalfCheetah-v5 --address tcp://127.0.0.1:5555 [--lockstep]

Lockstep advances the simulation only when a goal answers the latest state (evaluation parity with
in-process rollouts); without it the sim runs free at its control rate like a real robot.
Ctrl-C or SIGTERM: hold -> park -> release; SIGUSR1 or Enter (with --keyboard-estop): latching e-stop.
"""

from __future__ import annotations

import logging
import sys
import threading
from dataclasses import dataclass

import tyro

from sensorimotor.errors import UserError


@dataclass(frozen=True)
class ServeArgs:
    env: str = "HalfCheetah-v5"
    address: str = "tcp://127.0.0.1:5555"
    lockstep: bool = False
    seed: int = 0
    camera: tuple[int, int] | None = None
    """(height, width) of rendered frames served with every state."""
    secret_file: str | None = None
    hold_after: int = 3
    stop_after: int = 25
    max_periods: int | None = None
    keyboard_estop: bool = False
    """Read the terminal: Enter latches an e-stop, ``reset`` + Enter clears it."""


def main(argv: list[str] | None = None) -> int:
    from sensorimotor.envs import spec
    from sensorimotor.hardware.deploy import _read_secret
    from sensorimotor.hardware.safety import SafetyConfig
    from sensorimotor.hardware.server import RobotServer
    from sensorimotor.hardware.sim_robot import SimRobot
    from sensorimotor.hardware.transport import TransportError

    args = tyro.cli(ServeArgs, args=argv)
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(message)s")
    logging.getLogger("sensorimotor").setLevel(logging.INFO)
    try:
        spec(args.env)
        robot = SimRobot(args.env, seed=args.seed, camera=args.camera)
        server = RobotServer(robot, args.address, secret=_read_secret(args.secret_file),
                             safety=SafetyConfig(args.hold_after, args.stop_after), lockstep=args.lockstep)
    except (UserError, TransportError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"serving {robot.spec.name} (spec hash {robot.spec.hash()}) at {args.address}"
          f"{' in lockstep' if args.lockstep else ''}", flush=True)
    if args.keyboard_estop:
        threading.Thread(target=_keyboard, args=(server,), daemon=True).start()
        print("keyboard: Enter = e-stop, 'reset' + Enter = clear it", flush=True)
    stats = server.serve(max_periods=args.max_periods, handle_signals=True)
    print(f"served {stats.periods} periods, {stats.goals_applied} goals applied, {stats.goals_rejected} rejected, "
          f"{stats.overruns} overruns", flush=True)
    return 0


def _keyboard(server) -> None:
    for line in sys.stdin:
        if line.strip() == "reset":
            server.request_reset("keyboard")
        else:
            server.estop("keyboard")


if __name__ == "__main__":
    sys.exit(main())
