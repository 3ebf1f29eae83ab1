"""PPO learns on the ``mjx`` backend (JAX's CPU device here, the GPU path elsewhere), from the CLI."""

import json

import pytest

from sensorimotor.cli import main
from sensorimotor.envs.vector.mjx import mjx_available


@pytest.mark.slow
@pytest.mark.skipif(not mjx_available(), reason="needs jax and mujoco-mjx (extra mjx)")
def test_ppo_balances_the_inverted_pendulum_on_mjx(tmp_path, capsys):
    run_dir = str(tmp_path / "run")
    flags = ["--ppo.total-steps", "40960", "--ppo.n-steps", "128", "--ppo.batch-size", "256",
             "--ppo.n-epochs", "10", "--ppo.learning-rate", "1e-3", "--ppo.no-compile"]
    code = main(["train", "ppo", "--env", "InvertedPendulum-v5", "--backend", "mjx", "--num-envs", "8",
                 "--run-dir", run_dir, "--no-progress", "--checkpoint-every", "20480", *flags])
    assert code == 0
    capsys.readouterr()
    # Evaluation builds the same backend (8 envs: the compiled step is reused in this process).
    assert main(["evaluate", run_dir, "--episodes", "8"]) == 0
    summary = json.loads(capsys.readouterr().out)
    # Random actions keep the pole up for ~5-10 steps; the task caps episodes at 1000.
    assert summary["return_mean"] >= 500, summary
    config = json.load(open(f"{run_dir}/config.json"))
    assert config["backend"] == "mjx" and config["ppo"]["num_envs"] == 8
