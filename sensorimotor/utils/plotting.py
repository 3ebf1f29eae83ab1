"""Learning-curve PNG from a run's ``metrics.jsonl``."""

from __future__ import annotations

import os

from sensorimotor.utils.logging import read_metrics


def plot_learning_curve(run_dir: str, out_path: str | None = None, title: str | None = None) -> str | None:
    """Episode return against environment steps; returns the PNG path, or None without data."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    points = [(m["step"], m["episode_return"]) for m in read_metrics(run_dir) if "episode_return" in m]
    if not points:
        return None
    out_path = out_path or os.path.join(run_dir, "learning_curve.png")
    steps, returns = zip(*points)
    fig, ax = plt.subplots(figsize=(7, 4), dpi=100)
    ax.plot(steps, returns, lw=1.5)
    ax.set_xlabel("environment steps")
    ax.set_ylabel("mean episode return (training)")
    ax.set_title(title or os.path.basename(os.path.abspath(run_dir)))
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(out_path)
    plt.close(fig)
    return out_path
