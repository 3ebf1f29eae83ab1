"""Fixed-rate timing: absolute deadlines, a precise sleep, named sections and latency statistics."""

from __future__ import annotations

import time
from collections import defaultdict
from contextlib import contextmanager

import numpy as np

# The last stretch before a deadline is spun: on these machines time.sleep overshoots by 0.1 ms at
# the median and ~1 ms at p99 under load. Each spin iteration yields (sleep(0)) so camera and
# transport threads still get the GIL.
SPIN_S = 0.0015


def sleep_until(deadline: float, spin_s: float = SPIN_S) -> None:
    """Sleep until ``time.monotonic()`` reaches ``deadline``; the last ``spin_s`` seconds busy-wait."""
    remaining = deadline - time.monotonic()
    if remaining > spin_s:
        time.sleep(remaining - spin_s)
    while time.monotonic() < deadline:
        time.sleep(0)


class LoopTimer:
    """Collects per-iteration samples: wake-up jitter, loop latency, named sections and any extra
    series (frame age, RTT). :meth:`summary` gives p50 / p99 / max in milliseconds."""

    def __init__(self):
        self.series: dict[str, list[float]] = defaultdict(list)
        self.overruns = 0

    @contextmanager
    def section(self, name: str):
        start = time.perf_counter()
        try:
            yield
        finally:
            self.series[f"section/{name}"].append(time.perf_counter() - start)

    def add(self, name: str, seconds: float | None) -> None:
        if seconds is not None:
            self.series[name].append(seconds)

    def summary(self) -> dict[str, dict[str, float] | int]:
        out: dict[str, dict[str, float] | int] = {"overruns": self.overruns}
        for name, values in sorted(self.series.items()):
            v = 1e3 * np.asarray(values)
            out[name] = {"p50_ms": round(float(np.percentile(v, 50)), 4), "p99_ms": round(float(np.percentile(v, 99)), 4),
                         "max_ms": round(float(v.max()), 4), "n": int(v.size)}
        return out
