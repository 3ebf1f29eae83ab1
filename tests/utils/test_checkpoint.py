import os

import pytest
import torch

from sensorimotor.errors import UserError
from sensorimotor.utils.checkpoint import (chosen_checkpoint, latest_checkpoint, list_checkpoints, load_checkpoint,
                                           save_checkpoint)


def test_round_trip_and_keep_last(tmp_path):
    weights = {"w": torch.arange(6.0).view(2, 3)}
    for step in (10, 20, 30, 40):
        save_checkpoint(str(tmp_path), step, weights, {"step": step, "m": {"w": torch.ones(2)}}, keep=3)
    assert [os.path.basename(p) for p in list_checkpoints(str(tmp_path))] == ["step_20", "step_30", "step_40"]
    loaded_weights, state = load_checkpoint(latest_checkpoint(str(tmp_path)))
    assert torch.equal(loaded_weights["w"], weights["w"])
    assert state["step"] == 40 and torch.equal(state["m"]["w"], torch.ones(2))


def test_a_checkpoint_is_chosen_by_step_or_name_and_a_missing_one_is_listed(tmp_path):
    run = str(tmp_path)
    assert chosen_checkpoint(run, None) is None
    for step in (100, 200, 300):
        save_checkpoint(run, step, {"w": torch.full((1,), float(step))}, {"step": step})
    assert chosen_checkpoint(run, None).endswith("step_300")
    assert chosen_checkpoint(run, "200").endswith("step_200")
    assert load_checkpoint(chosen_checkpoint(run, "step_100"))[1]["step"] == 100
    # "20" must not match step_200 by prefix, nor "step_2" step_200.
    for missing in ("20", "step_2", "latest"):
        with pytest.raises(UserError, match="it has: step_100, step_200, step_300"):
            chosen_checkpoint(run, missing)


def test_half_written_checkpoint_is_ignored(tmp_path):
    save_checkpoint(str(tmp_path), 10, {"w": torch.zeros(1)}, {"step": 10})
    # What a kill during the next write leaves behind: a temporary directory with a partial file.
    partial = tmp_path / "checkpoints" / ".tmp_step_20_4242"
    partial.mkdir()
    (partial / "weights.safetensors").write_bytes(b"\x00\x01")
    assert latest_checkpoint(str(tmp_path)).endswith("step_10")
    assert load_checkpoint(latest_checkpoint(str(tmp_path)))[1]["step"] == 10


def test_corrupt_and_foreign_checkpoints_give_clear_errors(tmp_path):
    path = save_checkpoint(str(tmp_path), 10, {"w": torch.zeros(1)}, {"step": 10})
    with open(os.path.join(path, "weights.safetensors"), "wb") as f:
        f.write(b"not a safetensors file")
    with pytest.raises(UserError, match="corrupt"):
        load_checkpoint(path)
    with pytest.raises(UserError, match="not a sensorimotor checkpoint"):
        load_checkpoint(str(tmp_path))


def test_state_file_cannot_run_code(tmp_path):
    path = save_checkpoint(str(tmp_path), 10, {"w": torch.zeros(1)}, {"step": 10})

    class Payload:
        def __reduce__(self):
            return (os.system, ("echo pwned",))

    import pickle

    with open(os.path.join(path, "state.pt"), "wb") as f:
        pickle.dump({"step": 10, "x": Payload()}, f)
    with pytest.raises(UserError, match="corrupt or unreadable"):
        load_checkpoint(path)
