"""``sensorimotor average``: the mean of checkpoints' weights, worked by hand, through a real run, and
its bad input."""

import json
import os

import pytest
import torch

from sensorimotor.app.average import AverageArgs, average_checkpoints, average_weights
from sensorimotor.errors import UserError
from sensorimotor.utils.checkpoint import list_checkpoints, load_checkpoint, save_checkpoint
from tests.helpers import run_cli


def test_weights_are_averaged_element_wise_and_fixed_tensors_kept_exactly():
    a = {"w": torch.tensor([1.0, 2.0]), "b": torch.tensor([3.0]), "count": torch.tensor([4]),
         "bound": torch.tensor([0.1, 0.7])}
    b = {"w": torch.tensor([3.0, 6.0]), "b": torch.tensor([5.0]), "count": torch.tensor([9]),
         "bound": torch.tensor([0.1, 0.7])}
    c = {"w": torch.tensor([2.0, 1.0]), "b": torch.tensor([-2.0]), "count": torch.tensor([7]),
         "bound": torch.tensor([0.1, 0.7])}
    mean = average_weights([a, b, c], ["a", "b", "c"])
    assert torch.equal(mean["w"], torch.tensor([2.0, 3.0]))  # (1+3+2)/3, (2+6+1)/3
    assert torch.equal(mean["b"], torch.tensor([2.0]))  # (3+5-2)/3
    assert torch.equal(mean["count"], torch.tensor([7]))  # integers: the last checkpoint's
    assert torch.equal(mean["bound"], a["bound"])  # equal everywhere: bit for bit, no rounding
    assert mean["w"].dtype == torch.float32


def test_checkpoints_of_different_networks_are_refused_with_one_line():
    a, b = {"w": torch.zeros(2)}, {"w": torch.zeros(3)}
    with pytest.raises(UserError, match="different networks .*w: \\(2,\\) vs \\(3,\\)"):
        average_weights([a, b], ["a", "b"])
    with pytest.raises(UserError, match="different networks"):
        average_weights([a, {"v": torch.zeros(2)}], ["a", "b"])
    with pytest.raises(UserError, match="two or more"):
        average_weights([a], ["a"])


def test_a_trained_run_averages_into_a_run_directory_that_evaluates(tmp_path):
    run_dir = str(tmp_path / "run")
    result = run_cli("train", "ppo", "--env", "CartPole-v1", "--preset", "smoke", "--run-dir", run_dir,
                     "--checkpoint-every", "128", "--keep-checkpoints", "5", "--no-progress")
    assert result.returncode == 0, result.stderr[-3000:]
    checkpoints = list_checkpoints(run_dir)
    # 512 steps in rollouts of 128 (2 envs x 64), a checkpoint after each: all 4 kept (the default keeps 3).
    assert [os.path.basename(p) for p in checkpoints] == ["step_128", "step_256", "step_384", "step_512"]
    picked = checkpoints[-3:]
    steps = [os.path.basename(p).removeprefix("step_") for p in picked]

    result = run_cli("average", run_dir, "--checkpoints", *steps)
    assert result.returncode == 0, result.stderr[-3000:]
    summary = json.loads(result.stdout)
    out = f"{run_dir}-avg-{steps[0]}-{steps[-1]}"
    assert summary["out"] == out and summary["checkpoints"] == [int(s) for s in steps]

    sources = [load_checkpoint(p) for p in picked]
    (averaged_path,) = list_checkpoints(out)
    weights, state = load_checkpoint(averaged_path)
    assert state["step"] == int(steps[-1])
    moved = 0
    for key, value in weights.items():
        expected = sum(w[key].double() for w, _ in sources) / 3
        torch.testing.assert_close(value.double(), expected, rtol=0, atol=1e-6)
        moved += not torch.equal(value, sources[-1][0][key])
    assert moved >= len(weights) // 2, "most weights should differ from the last checkpoint's"

    result = run_cli("evaluate", out, "--episodes", "2")
    assert result.returncode == 0, result.stderr[-3000:]
    assert json.loads(result.stdout)["step"] == int(steps[-1])

    # Bad input, one line each, exit 2, nothing written over.
    for args, message in [(["--checkpoints", steps[0]], "two or more"),
                          (["--checkpoints", steps[0], "999999"], "no checkpoint '999999'"),
                          (["--checkpoints", steps[0], steps[0]], "twice"),
                          (["--checkpoints", *steps], "already a run directory")]:
        result = run_cli("average", run_dir, *args)
        assert result.returncode == 2 and message in result.stderr, (args, result.stderr[-2000:])
        assert len(result.stderr.strip().splitlines()) == 1


def test_a_foreign_checkpoint_in_the_run_is_refused(tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    (run / "config.json").write_text(json.dumps({"agent": "ppo", "env": "CartPole-v1"}))
    save_checkpoint(str(run), 1, {"w": torch.zeros(2)}, {"step": 1}, keep=5)
    save_checkpoint(str(run), 2, {"w": torch.zeros(4)}, {"step": 2}, keep=5)
    with pytest.raises(UserError, match="different networks"):
        average_checkpoints(AverageArgs(run=str(run), checkpoints=("1", "2")))
    assert not os.path.exists(f"{run}-avg-1-2")
