"""Torch device strings: checked before anything is built on them, and a saved GPU run moved to the cpu
on a machine without one. torch is imported inside the functions: configs import this module and stay
light to import."""

from __future__ import annotations

import sys

from sensorimotor.errors import UserError


def check_device(device: str, flag: str) -> None:
    """Raise :class:`UserError` if ``device`` (``cpu``, ``cuda``, ``cuda:1``...) is not usable here.

    ``flag`` names the setting in the message (``--ppo.device``), so the one line says what to change.
    """
    import torch

    try:
        parsed = torch.device(device)
    except (RuntimeError, TypeError):
        raise UserError(f"{flag} {device!r} is not a device; use cpu, cuda or cuda:N.") from None
    if parsed.type == "cpu":
        return
    if parsed.type != "cuda":
        raise UserError(f"{flag} {device!r}: only cpu and cuda devices are supported.")
    if not torch.cuda.is_available():
        raise UserError(f"{flag} {device!r} but torch sees no CUDA GPU (torch {torch.__version__}); "
                        f"use {flag} cpu, or install a CUDA build of torch on a machine with one.")
    count = torch.cuda.device_count()
    if parsed.index is not None and parsed.index >= count:
        raise UserError(f"{flag} {device!r}: this machine has {count} CUDA device(s), cuda:0 to cuda:{count - 1}.")


def device_for_run(device: str, run_dir: str) -> str:
    """The device to load a saved run on: its own, or ``"cpu"`` (said on stderr) when it names CUDA and
    torch sees no GPU here, so a run trained on a GPU machine still evaluates and exports on a laptop."""
    import torch

    if torch.device(device).type == "cuda" and not torch.cuda.is_available():
        print(f"{run_dir} was trained on {device}; torch sees no CUDA GPU here, so it runs on the cpu", file=sys.stderr)
        return "cpu"
    return device


def check_native_bf16(device: str, flag: str, cpu_flags_path: str = "/proc/cpuinfo") -> None:
    """Raise :class:`UserError` if ``device`` has no native bfloat16 arithmetic, where mixed precision
    would run slower than float32: a CPU without ``avx512_bf16`` or ``amx_bf16`` (checked where
    ``/proc/cpuinfo`` exists), or a CUDA GPU older than Ampere."""
    import torch

    if torch.device(device).type == "cuda":
        if not torch.cuda.is_bf16_supported(including_emulation=False):
            raise UserError(f"{flag}: this GPU has no native bfloat16 (needs Ampere or newer); drop {flag}.")
        return
    try:
        with open(cpu_flags_path) as f:
            flags = next((line.split(":", 1)[1].split() for line in f if line.startswith("flags")), [])
    except OSError:
        return  # not Linux: trust the user
    if not {"avx512_bf16", "amx_bf16"} & set(flags):
        raise UserError(f"{flag}: this CPU has no native bfloat16 (avx512_bf16 or amx_bf16), so the update "
                        f"would run slower than in float32; drop {flag}.")


def channels_last_is_faster(device: str) -> bool:
    """Whether Nature-CNN convolutions should keep NHWC ("channels last") weights and inputs on
    ``device``: on CPUs where torch runs AVX-512 kernels, where oneDNN's convolutions are native to it
    (a DQN update of 32: 17.3 -> 14.3 ms on a Zen 5 host). Not on AVX2-only CPUs, where NHWC measured
    slower (the host of earlier sessions), nor on GPUs (not measured here)."""
    import torch

    return torch.device(device).type == "cpu" and torch.backends.cpu.get_cpu_capability() == "AVX512"
