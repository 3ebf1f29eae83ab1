"""Run the real CLI in a subprocess, as a user would."""

import os
import subprocess
import sys

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run_cli(*args, env_overrides=None, timeout=600):
    env = dict(os.environ, PYTHONUNBUFFERED="1", **(env_overrides or {}))
    return subprocess.run([sys.executable, "-m", "sensorimotor", *args], capture_output=True, text=True,
                          cwd=REPO, env=env, timeout=timeout)
