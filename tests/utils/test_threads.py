"""Intra-op threads: one for small networks on the CPU, all for convolutions over real frames."""

import pytest
import torch

from sensorimotor.utils.threads import intra_op_threads, single_threaded


def test_only_real_frames_or_a_gpu_get_every_thread():
    every = torch.get_num_threads()
    assert intra_op_threads((4, 84, 84)) == every  # Atari stack
    assert intra_op_threads((1, 60, 80)) == every  # Doom frame
    assert intra_op_threads((10, 10, 4)) == 1  # MinAtar grid, channels last
    assert intra_op_threads((4, 10, 10)) == 1
    assert intra_op_threads((17,)) == 1  # MuJoCo state
    assert intra_op_threads((17,), device="cuda") == every


def test_single_threaded_sets_one_and_restores_the_count():
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        with single_threaded():
            assert torch.get_num_threads() == 1
        assert torch.get_num_threads() == 2
        with single_threaded(enabled=False):
            assert torch.get_num_threads() == 2
        with pytest.raises(ValueError), single_threaded():
            raise ValueError("restored on the way out too")
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)
