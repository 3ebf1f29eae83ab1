"""torch.compile with an eager fallback: a machine without a working C++ toolchain still trains."""

from __future__ import annotations

import warnings
from typing import Callable


def compile_or_eager(fn: Callable, **compile_kwargs) -> Callable:
    """``torch.compile(fn, **compile_kwargs)``; if compiling fails (dynamo or inductor raise, e.g. no
    C++ compiler), warn once and run ``fn`` eagerly from then on. Errors of ``fn`` itself propagate as
    eager torch raises them: Dynamo wraps an error it meets while tracing ``fn`` (a shape mismatch in
    the caller's tensors) in ``TorchRuntimeError``; that one is the function's, not the compiler's, so
    ``fn`` runs eagerly once to raise it in torch's own words, and compiling stays on."""
    import torch

    # Dynamo keys its cache by code object: every agent built in one process (tests, sweeps, evaluating
    # many checkpoints) adds a guarded entry for the same bound method, and the default limit of 8 then
    # fails a fullgraph compile. Entries are cheap; 64 agents per process is plenty.
    torch._dynamo.config.recompile_limit = max(torch._dynamo.config.recompile_limit, 64)
    compiled = torch.compile(fn, **compile_kwargs)
    current = [compiled]

    def call(*args, **kwargs):
        try:
            return current[0](*args, **kwargs)
        except Exception as exc:  # noqa: BLE001 - filtered just below
            if current[0] is fn or not type(exc).__module__.startswith(("torch._dynamo", "torch._inductor")):
                raise
            if isinstance(exc, torch._dynamo.exc.TorchRuntimeError):
                return fn(*args, **kwargs)  # the function's own error, raised eagerly
            first_line = (str(exc).strip().splitlines() or [""])[0][:200]
            warnings.warn(f"torch.compile failed ({type(exc).__name__}: {first_line}); running eagerly "
                          "(about 4x slower updates). Pass --ppo.no-compile to skip the attempt.", stacklevel=2)
            current[0] = fn
            return fn(*args, **kwargs)

    return call
