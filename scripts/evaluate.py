"""Evaluate a run directory: same flags as `sensorimotor evaluate` (e.g. `python scripts/evaluate.py RUN --video`)."""

import sys

from sensorimotor.cli import main

if __name__ == "__main__":
    sys.exit(main(["evaluate", *sys.argv[1:]]))
