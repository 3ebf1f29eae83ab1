import os

import pytest
import torch

os.environ.setdefault("MUJOCO_GL", "egl")
os.environ.setdefault("WANDB_MODE", "offline")
os.environ.setdefault("WANDB_SILENT", "true")
# pytest-xdist runs two workers on two cores: numba's parallel LSTM kernels (two threads that meet at a
# barrier every time step) then wait on a descheduled thread at every step. Alone the CartPoleNoVel
# learning test takes 55 s; beside another test it took 240-400 s. One numba thread per worker.
os.environ.setdefault("NUMBA_NUM_THREADS", "1")


def pytest_collection_modifyitems(config, items):
    if not torch.cuda.is_available():
        skip = pytest.mark.skip(reason="needs CUDA")
        for item in items:
            if "gpu" in item.keywords:
                item.add_marker(skip)
