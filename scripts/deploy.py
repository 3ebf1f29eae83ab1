"""Same flags as `sensorimotor deploy` (e.g. `python scripts/deploy.py --help`)."""

import sys

from sensorimotor.cli import main

if __name__ == "__main__":
    sys.exit(main(["deploy", *sys.argv[1:]]))
