"""How many intra-op threads torch should use for an agent on the CPU."""

from __future__ import annotations

import contextlib

import torch

# Forward passes over at most this many observations run on one thread (see `single_threaded`).
SMALL_BATCH = 16

# Frames at least this large (Atari's 84x84, Doom's 60x80) go through the Nature CNN, whose convolutions
# fill every core; MinAtar's 10x10 grids and flat vectors go through small layers.
LARGE_FRAME_SIDE = 36


def intra_op_threads(obs_shape: tuple[int, ...], device: str = "cpu") -> int:
    """Torch's current thread count for convolutions over real frames (or off the CPU), else one.

    Small networks (MLPs, MinAtar's one convolution) run faster on one intra-op thread: their ops are
    too short to split, and the second core is left to the envs (DQN's MLP: 4x faster than on two
    threads under load; PPO's MuJoCo update: measured in benchmarks/results.md). A Nature-CNN update on
    a 256-frame minibatch is the opposite: one thread leaves a core idle while the envs wait.
    """
    large_frames = len(obs_shape) == 3 and min(obs_shape[1:]) >= LARGE_FRAME_SIDE
    if str(device) != "cpu" or large_frames:
        return torch.get_num_threads()
    return 1


@contextlib.contextmanager
def single_threaded(enabled: bool = True):
    """Run the block on one intra-op thread, then restore the count (0.2 us for the pair).

    For acting: a Nature-CNN forward over 1-16 frames is too short to split. Under
    ``OMP_WAIT_POLICY=PASSIVE`` (set by the package) each parallel op wakes a sleeping worker, and on
    two threads a batch-1 forward took 0.76 ms against 0.32 ms on one (batch 16: 2.27 against 2.03;
    batch 32: 3.37 against 4.06, where two threads win). See benchmarks/results.md, dqn_atari_cpu.
    """
    if not enabled:
        yield
        return
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)
