"""Recordings: round trip, and a torn last record (a kill mid-write) loses only that record."""

import numpy as np

from sensorimotor.hardware.recording import Recorder, read_recording


def test_round_trip_and_torn_tail(tmp_path):
    path = str(tmp_path / "ep.smrec")
    with Recorder(path, {"hz": 50.0}) as rec:
        for i in range(5):
            rec.write({"action": np.array([i, -i], np.float32), "state/obs": np.arange(3.0) + i}, t=0.02 * i, step=i,
                      episode=0, events=["rate limited"] if i == 2 else [])
    records = list(read_recording(path))
    assert records[0] == {"kind": "header", "hz": 50.0}
    assert [r["step"] for r in records[1:]] == [0, 1, 2, 3, 4]
    np.testing.assert_array_equal(records[4]["arrays"]["action"], [3, -3])
    assert records[3]["events"] == ["rate limited"]
    size = len(open(path, "rb").read())
    with open(path, "r+b") as f:
        f.truncate(size - 7)  # the process died while writing the last step
    assert [r["step"] for r in list(read_recording(path))[1:]] == [0, 1, 2, 3]
