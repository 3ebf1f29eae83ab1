import os

# Two workers on two cores (the Makefile's `-n 2`): one intra-op thread each. Set before torch is
# imported, so that the CLI runs the tests start inherit it too. With torch's default (a thread per
# core) in both workers, a test with big GEMMs or convolutions ran beside the other worker's on four
# threads over two cores: the SAC pendulum test took 366 s there against 127 s alone.
os.environ.setdefault("OMP_NUM_THREADS", "1")

import pytest  # noqa: E402
import torch  # noqa: E402

os.environ.setdefault("MUJOCO_GL", "egl")
os.environ.setdefault("WANDB_MODE", "offline")
os.environ.setdefault("WANDB_SILENT", "true")
# pytest-xdist runs two workers on two cores: numba's parallel LSTM kernels (two threads that meet at a
# barrier every time step) then wait on a descheduled thread at every step. Alone the CartPoleNoVel
# learning test takes 55 s; beside another test it took 240-400 s. One numba thread per worker.
os.environ.setdefault("NUMBA_NUM_THREADS", "1")


def _learning_files_first(items):
    """Files with a learning test (marked slow, 0.5-3 minutes each) first, then the others, most tests
    first. With ``--dist loadfile --no-loadscope-reorder`` (the Makefile's) this is the order in which
    the two workers take files: the long ones start early and the short ones fill in at the end.
    xdist's own order (most tests first) puts the one-test learning files last, where a long one can
    leave the other worker idle. Measured on a noisy host: idle share of the two workers 2.5 min of
    17.9 before, 2.0 of 22.1 after (the host's CPU time differed by 30% between the runs)."""
    by_file = {}
    for item in items:
        by_file.setdefault(item.nodeid.split("::", 1)[0], []).append(item)
    learning = {f for f, group in by_file.items() if any("slow" in item.keywords for item in group)}
    order = sorted(by_file, key=lambda f: (f not in learning, 0 if f in learning else -len(by_file[f])))
    items[:] = [item for f in order for item in by_file[f]]


def pytest_collection_modifyitems(config, items):
    _learning_files_first(items)
    if not torch.cuda.is_available():
        skip = pytest.mark.skip(reason="needs CUDA")
        for item in items:
            if "gpu" in item.keywords:
                item.add_marker(skip)
