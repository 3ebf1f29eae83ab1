"""Record files: an append-only file of length-prefixed msgpack records, flushed every step, so a
crash or a kill loses at most the record being written; the reader stops cleanly at a torn tail.

One format for what the robot bridge records (``hardware``) and the episode datasets that
``sensorimotor collect`` writes (``utils/datasets.py``): nothing in it is ever unpickled.

Each record is a map: ``t`` (monotonic seconds), ``step``, ``episode``, scalar fields, and ``arrays``
as ``{name: [dtype, shape, bytes]}``. The first record is the header (``kind: "header"``) with the
manifest, the robot spec and the loop rate.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Iterator
from typing import Any

import msgpack
import numpy as np

# Array dtypes a record (or a bridge message) may carry.
DTYPES = frozenset({"float32", "float64", "uint8", "int32", "int64", "bool"})
_LEN = struct.Struct("<I")
MAX_RECORD_BYTES = 64 * 1024 * 1024


class Recorder:
    """Args:
        path: the file to create (``.smrec``); parent folders are made.
        header: anything msgpack can hold (manifest, spec, rate).
    """

    def __init__(self, path: str, header: dict[str, Any]):
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        self.path = path
        self.records = 0
        self._file = open(path, "wb")
        self._write({"kind": "header", **header})

    def write(self, arrays: dict[str, np.ndarray], **fields: Any) -> None:
        packed = {name: [a.dtype.name, list(a.shape), np.ascontiguousarray(a).tobytes()]
                  for name, a in ((n, np.asarray(v)) for n, v in arrays.items())}
        self._write({"kind": "step", **fields, "arrays": packed})
        self.records += 1

    def _write(self, record: dict[str, Any]) -> None:
        data = msgpack.packb(record, use_bin_type=True)
        self._file.write(_LEN.pack(len(data)) + data)
        self._file.flush()

    def close(self) -> None:
        if not self._file.closed:
            self._file.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def read_recording(path: str) -> Iterator[dict[str, Any]]:
    """Yields the header, then each step with ``arrays`` decoded to numpy. A torn last record (the
    process died mid-write) ends the iteration without an error."""
    with open(path, "rb") as f:
        while True:
            prefix = f.read(_LEN.size)
            if len(prefix) < _LEN.size:
                return
            (size,) = _LEN.unpack(prefix)
            if size > MAX_RECORD_BYTES:
                raise ValueError(f"{path}: record of {size} bytes: not a sensorimotor recording or corrupt")
            data = f.read(size)
            if len(data) < size:
                return
            record = msgpack.unpackb(data, raw=False, strict_map_key=True)
            arrays = record.get("arrays")
            if arrays:
                record["arrays"] = {name: _array(*spec) for name, spec in arrays.items()}
            yield record


def _array(dtype: str, shape: list[int], data: bytes) -> np.ndarray:
    if dtype not in DTYPES:
        raise ValueError(f"record holds dtype {dtype!r}, not one of {sorted(DTYPES)}")
    return np.frombuffer(data, dtype=dtype).reshape(shape)
