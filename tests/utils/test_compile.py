import os
import subprocess
import sys
import warnings

import pytest
import torch

from sensorimotor.utils.compile import compile_or_eager


def test_errors_of_the_function_itself_propagate_and_compiling_stays_on():
    def bad(x):
        return x @ torch.zeros(5, 5)  # shape mismatch for a [3, 3] input

    fn = compile_or_eager(bad, fullgraph=True)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(RuntimeError, match="cannot be multiplied"):  # eager torch's words
            fn(torch.zeros(3, 3))
        assert fn(torch.ones(2, 5)).shape == (2, 5)  # still compiled: no fallback warning
    assert not [w for w in caught if "running eagerly" in str(w.message)]


def test_falls_back_to_eager_without_a_cpp_compiler(tmp_path):
    # A fresh inductor cache and no compiler on PATH: compiling fails, the result is still right.
    code = (
        "import warnings, torch\n"
        "from sensorimotor.utils.compile import compile_or_eager\n"
        "f = compile_or_eager(lambda x: torch.tanh(x) * 2 + 1, fullgraph=True)\n"
        "with warnings.catch_warnings(record=True) as w:\n"
        "    warnings.simplefilter('always')\n"
        "    y = f(torch.ones(4))\n"
        "assert torch.allclose(y, torch.tanh(torch.ones(4)) * 2 + 1)\n"
        "print('WARNED' if any('running eagerly' in str(x.message) for x in w) else 'COMPILED')\n"
    )
    env = dict(os.environ, CXX="/nonexistent/c++", CC="/nonexistent/cc", PATH=str(tmp_path),
               TORCHINDUCTOR_CACHE_DIR=str(tmp_path / "cache"))
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "WARNED" in result.stdout
