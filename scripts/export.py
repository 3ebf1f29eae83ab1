"""Same flags as `sensorimotor export` (e.g. `python scripts/export.py --help`)."""

import sys

from sensorimotor.cli import main

if __name__ == "__main__":
    sys.exit(main(["export", *sys.argv[1:]]))
