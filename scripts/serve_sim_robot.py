"""Serve a registered sim task as a robot over the bridge protocol (loopback by default): the same as
``sensorimotor serve --robot sim:ENV`` (see ``sensorimotor/hardware/serving.py``).

    python scripts/serve_sim_robot.py --env HalfCheetah-v5 --address tcp://127.0.0.1:5555 [--lockstep]
"""

from __future__ import annotations

import sys

from sensorimotor.cli import main

if __name__ == "__main__":
    argv = sys.argv[1:]
    if "--env" in argv:  # this script's own flag: the sim task to serve
        i = argv.index("--env")
        argv[i:i + 2] = ["--robot", f"sim:{argv[i + 1]}"]
    argv = [f"--robot=sim:{a.split('=', 1)[1]}" if a.startswith("--env=") else a for a in argv]
    if not any(a.startswith("--robot") for a in argv):
        argv.insert(0, "--robot=sim:HalfCheetah-v5")
    sys.exit(main(["serve", *argv]))
