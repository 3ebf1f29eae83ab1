"""Same flags as `sensorimotor replay` (e.g. `python scripts/replay.py --help`)."""

import sys

from sensorimotor.cli import main

if __name__ == "__main__":
    sys.exit(main(["replay", *sys.argv[1:]]))
