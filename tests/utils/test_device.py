"""Device strings are checked before anything is built on them; saved GPU runs load on a CPU machine."""

import pytest
import torch

from sensorimotor.errors import UserError
from sensorimotor.utils.device import check_device, check_native_bf16, device_for_run

NO_CUDA = pytest.mark.skipif(torch.cuda.is_available(), reason="checks the machine without a CUDA GPU")


def test_cpu_passes_and_nonsense_is_named():
    check_device("cpu", "--ppo.device")
    with pytest.raises(UserError, match="--ppo.device 'gpu0' is not a device"):
        check_device("gpu0", "--ppo.device")
    with pytest.raises(UserError, match="only cpu and cuda"):
        check_device("meta", "--ppo.device")


@NO_CUDA
def test_cuda_without_a_gpu_says_what_to_use_instead():
    with pytest.raises(UserError, match="torch sees no CUDA GPU .*use --dqn.device cpu"):
        check_device("cuda:0", "--dqn.device")


@NO_CUDA
def test_a_run_trained_on_cuda_loads_on_the_cpu_and_says_so(capsys):
    assert device_for_run("cuda", "runs/x") == "cpu"
    assert "runs/x was trained on cuda" in capsys.readouterr().err
    assert device_for_run("cpu", "runs/x") == "cpu" and capsys.readouterr().err == ""


def test_bf16_needs_a_cpu_with_native_bfloat16(tmp_path):
    without = tmp_path / "cpuinfo_avx2"
    without.write_text("processor\t: 0\nflags\t\t: fpu sse2 avx avx2 fma avx512f\n")
    with pytest.raises(UserError, match="no native bfloat16"):
        check_native_bf16("cpu", "--dqn.bf16-trunk", cpu_flags_path=str(without))
    for flag in ("avx512_bf16", "amx_bf16"):
        native = tmp_path / f"cpuinfo_{flag}"
        native.write_text(f"processor\t: 0\nflags\t\t: fpu avx2 {flag}\n")
        check_native_bf16("cpu", "--dqn.bf16-trunk", cpu_flags_path=str(native))
    check_native_bf16("cpu", "--dqn.bf16-trunk", cpu_flags_path=str(tmp_path / "missing"))  # not Linux
