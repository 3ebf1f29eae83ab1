"""Intra-op threads: one for small networks on the CPU, all for convolutions over real frames."""

import torch

from sensorimotor.utils.threads import intra_op_threads


def test_only_real_frames_or_a_gpu_get_every_thread():
    every = torch.get_num_threads()
    assert intra_op_threads((4, 84, 84)) == every  # Atari stack
    assert intra_op_threads((1, 60, 80)) == every  # Doom frame
    assert intra_op_threads((10, 10, 4)) == 1  # MinAtar grid, channels last
    assert intra_op_threads((4, 10, 10)) == 1
    assert intra_op_threads((17,)) == 1  # MuJoCo state
    assert intra_op_threads((17,), device="cuda") == every
