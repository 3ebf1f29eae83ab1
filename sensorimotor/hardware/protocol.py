"""Wire format of the bridge: a msgpack header plus raw array frames, never pickle.

A message is a ZeroMQ multipart message::

    [header, array_0, ..., array_k, (mac)]

``header`` is a msgpack map with ``v`` (protocol version), ``type``, ``session``, ``seq`` (per
sender, increasing), ``t`` (the sender's monotonic clock, seconds), any scalar fields of the message
type, and ``arrays``: ``[[name, dtype, shape], ...]`` describing the raw frames that follow, in order.
With a shared secret, a last frame holds HMAC-SHA256 over every preceding frame.

Decoding trusts nothing: sizes are bounded, every header field's type is checked before its value is
used (a list where a string belongs is a :class:`ProtocolError`, never a ``TypeError``), the dtype
comes from a short allow-list, each frame's length must equal ``prod(shape) * itemsize``, and msgpack
extension types are refused, so hostile bytes can only produce a :class:`ProtocolError`.
"""

from __future__ import annotations

import hashlib
import hmac
import math
from dataclasses import dataclass, field
from typing import Any

import msgpack
import numpy as np

from sensorimotor.utils.recordfile import DTYPES as RECORD_DTYPES

VERSION = 1
MAX_HEADER_BYTES = 16 * 1024
MAX_ARRAYS = 16
MAX_ARRAY_BYTES = 16 * 1024 * 1024  # a 1080p RGB frame is 6 MB
MAC_BYTES = 32
DTYPES = RECORD_DTYPES  # the arrays a message may carry: those a recording may hold
TYPES = {"hello", "welcome", "reject", "goal", "state", "estop", "reset", "new_episode", "heartbeat", "bye", "error"}


class ProtocolError(ValueError):
    """A message that cannot be decoded or authenticated. Its text says which check failed."""


@dataclass
class Message:
    """One decoded message. ``fields`` holds the header's scalars, ``arrays`` the named arrays."""

    type: str
    session: str = ""
    seq: int = 0
    t: float = 0.0
    fields: dict[str, Any] = field(default_factory=dict)
    arrays: dict[str, np.ndarray] = field(default_factory=dict)


def encode(msg: Message, secret: bytes | None = None) -> list[bytes]:
    """``msg`` as multipart frames. Arrays are sent as their raw C-contiguous bytes."""
    names = []
    frames = []
    for name, value in msg.arrays.items():
        arr = np.ascontiguousarray(value)
        if arr.dtype.name not in DTYPES:
            raise ProtocolError(f"array {name!r} has dtype {arr.dtype.name}; allowed: {sorted(DTYPES)}")
        names.append([name, arr.dtype.name, list(arr.shape)])
        frames.append(arr.tobytes())
    header = {"v": VERSION, "type": msg.type, "session": msg.session, "seq": int(msg.seq), "t": float(msg.t),
              "arrays": names, **msg.fields}
    out = [msgpack.packb(header, use_bin_type=True), *frames]
    if secret is not None:
        out.append(_mac(secret, out))
    return out


def decode(frames: list[bytes], secret: bytes | None = None) -> Message:
    """Frames to a :class:`Message`, or :class:`ProtocolError` with the failed check."""
    if not frames:
        raise ProtocolError("empty message")
    if secret is not None:
        if len(frames) < 2 or not hmac.compare_digest(frames[-1], _mac(secret, frames[:-1])):
            raise ProtocolError("bad or missing HMAC: wrong shared secret or tampered message")
        frames = frames[:-1]
    raw = frames[0]
    if len(raw) > MAX_HEADER_BYTES:
        raise ProtocolError(f"header of {len(raw)} bytes exceeds {MAX_HEADER_BYTES}")
    try:
        header = msgpack.unpackb(bytes(raw), raw=False, strict_map_key=True, ext_hook=_refuse_extension)
    except ProtocolError:
        raise
    except Exception as exc:  # msgpack raises several unrelated types on garbage
        raise ProtocolError(f"header is not valid msgpack ({type(exc).__name__})") from None
    if not isinstance(header, dict):
        raise ProtocolError("header is not a map")
    version = header.get("v")
    if not isinstance(version, int) or isinstance(version, bool) or version != VERSION:
        raise ProtocolError(f"protocol version {_short(version)}, expected {VERSION}")
    kind = header.get("type")
    if not isinstance(kind, str) or kind not in TYPES:
        raise ProtocolError(f"unknown message type {_short(kind)}")
    session, seq, t = header.get("session", ""), header.get("seq", 0), header.get("t", 0.0)
    if not isinstance(session, str) or not isinstance(seq, int) or isinstance(seq, bool) or seq < 0:
        raise ProtocolError("session must be a string and seq a non-negative integer")
    if not isinstance(t, (int, float)) or not math.isfinite(t):
        raise ProtocolError("t must be a finite number")
    specs = header.get("arrays", [])
    if not isinstance(specs, list) or len(specs) > MAX_ARRAYS or len(specs) != len(frames) - 1:
        raise ProtocolError(f"header announces {len(specs) if isinstance(specs, list) else '?'} arrays "
                            f"but {len(frames) - 1} frames follow")
    arrays = {}
    for spec, payload in zip(specs, frames[1:]):
        name, arr = _decode_array(spec, payload)
        arrays[name] = arr
    fields = {k: v for k, v in header.items() if k not in ("v", "type", "session", "seq", "t", "arrays")}
    return Message(kind, session, seq, float(t), fields, arrays)


def _refuse_extension(code: int, data: bytes):
    raise ProtocolError(f"msgpack extension type {code} in a header: not allowed")


def _short(value: Any) -> str:
    """A hostile value for an error message: its repr, cut short."""
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _decode_array(spec: Any, payload: bytes) -> tuple[str, np.ndarray]:
    if not (isinstance(spec, list) and len(spec) == 3 and isinstance(spec[0], str) and isinstance(spec[1], str)
            and spec[1] in DTYPES
            and isinstance(spec[2], list) and len(spec[2]) <= 4
            and all(isinstance(d, int) and not isinstance(d, bool) and 0 <= d <= MAX_ARRAY_BYTES for d in spec[2])):
        raise ProtocolError("malformed array description")
    name, dtype, shape = spec
    expected = math.prod(shape) * np.dtype(dtype).itemsize
    if expected > MAX_ARRAY_BYTES:
        raise ProtocolError(f"array {name!r} of {expected} bytes exceeds {MAX_ARRAY_BYTES}")
    if len(payload) != expected:
        raise ProtocolError(f"array {name!r}: {len(payload)} bytes, shape {shape} {dtype} needs {expected}")
    # A copy, so the array does not pin ZeroMQ's buffer and is writeable.
    return name, np.frombuffer(payload, dtype=dtype).reshape(shape).copy()


def _mac(secret: bytes, frames: list[bytes]) -> bytes:
    h = hmac.new(secret, digestmod=hashlib.sha256)
    for frame in frames:
        h.update(len(frame).to_bytes(8, "little"))  # length-prefixed: frame boundaries are authenticated too
        h.update(frame)
    return h.digest()
