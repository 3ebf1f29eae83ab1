"""Train an agent: same flags as `sensorimotor train` (e.g. `python scripts/train.py ppo --env Hopper-v5`)."""

import sys

from sensorimotor.cli import main

if __name__ == "__main__":
    sys.exit(main(["train", *sys.argv[1:]]))
