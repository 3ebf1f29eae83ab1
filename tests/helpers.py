"""Run the real CLI in a subprocess, as a user would."""

import os
import subprocess
import sys

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run_cli(*args, env_overrides=None, timeout=600):
    env = dict(os.environ, PYTHONUNBUFFERED="1", **(env_overrides or {}))
    return subprocess.run([sys.executable, "-m", "sensorimotor", *args], capture_output=True, text=True,
                          cwd=REPO, env=env, timeout=timeout)


def skip_without_native_bf16(flag: str) -> None:
    """Skip the calling test where this CPU has no native bfloat16: ``flag`` is refused there."""
    from sensorimotor.errors import UserError
    from sensorimotor.utils.device import check_native_bf16

    try:
        check_native_bf16("cpu", flag)
    except UserError:
        pytest.skip("this CPU has no native bfloat16 (avx512_bf16 or amx_bf16)")
