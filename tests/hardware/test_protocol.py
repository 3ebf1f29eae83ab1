"""Wire format: round trip, authentication, and a fuzz run where hostile bytes only ever produce a
ProtocolError (never another exception, never a decoded message with wrong sizes)."""

import random

import msgpack
import numpy as np
import pytest

from sensorimotor.hardware.protocol import Message, ProtocolError, decode, encode

SECRET = b"0123456789abcdef-test-secret"


def sample():
    return Message("goal", "abc", 7, 12.5, {"expires": 13.0},
                   {"action": np.array([0.5, -1.25], np.float32), "image": np.arange(12, dtype=np.uint8).reshape(3, 4)})


def test_round_trip_keeps_fields_and_arrays():
    msg = decode(encode(sample()))
    assert (msg.type, msg.session, msg.seq, msg.t, msg.fields) == ("goal", "abc", 7, 12.5, {"expires": 13.0})
    np.testing.assert_array_equal(msg.arrays["action"], [0.5, -1.25])
    assert msg.arrays["image"].shape == (3, 4) and msg.arrays["image"][2, 3] == 11
    assert msg.arrays["action"].flags.writeable


def test_hmac_rejects_tampering_and_wrong_secret():
    frames = encode(sample(), SECRET)
    assert decode(frames, SECRET).seq == 7
    with pytest.raises(ProtocolError, match="HMAC"):
        decode(frames, b"another-secret-of-16+")
    tampered = [frames[0], bytes([frames[1][0] ^ 1]) + frames[1][1:], *frames[2:]]
    with pytest.raises(ProtocolError, match="HMAC"):
        decode(tampered, SECRET)
    with pytest.raises(ProtocolError, match="HMAC"):
        decode(encode(sample()), SECRET)  # unsigned message to a server with a secret


@pytest.mark.parametrize("header, payload, match", [
    ({"v": 2, "type": "goal"}, [], "version"),
    ({"v": 1, "type": "launch"}, [], "unknown message type"),
    ({"v": 1, "type": "goal", "seq": -1}, [], "non-negative"),
    ({"v": 1, "type": "goal", "t": float("nan")}, [], "finite"),
    ({"v": 1, "type": "goal", "arrays": [["a", "object", [1]]]}, [b"x"], "malformed"),
    ({"v": 1, "type": "goal", "arrays": [["a", "float32", [2]]]}, [b"1234"], "needs 8"),
    ({"v": 1, "type": "goal", "arrays": [["a", "float32", [2]]]}, [], "announces 1 arrays but 0"),
    ({"v": 1, "type": "goal", "arrays": [["a", "uint8", [100000, 100000]]]}, [b""], "exceeds"),
])
def test_malformed_headers_are_refused_with_the_reason(header, payload, match):
    with pytest.raises(ProtocolError, match=match):
        decode([msgpack.packb(header), *payload])


def test_pickle_and_garbage_are_refused():
    import pickle

    with pytest.raises(ProtocolError):
        decode([pickle.dumps({"v": 1, "type": "goal"})])
    with pytest.raises(ProtocolError, match="exceeds"):
        decode([b"\x00" * 20000])


def test_fuzz_hostile_bytes_only_raise_protocol_error():
    rng = random.Random(0)
    valid = encode(sample())
    tried = decoded = 0
    for _ in range(5000):
        frames = [bytearray(f) for f in valid]
        kind = rng.randrange(4)
        if kind == 0:  # flip bytes anywhere
            for _ in range(rng.randint(1, 4)):
                f = rng.randrange(len(frames))
                if frames[f]:
                    frames[f][rng.randrange(len(frames[f]))] ^= rng.randrange(1, 256)
        elif kind == 1:  # truncate or extend a frame
            f = rng.randrange(len(frames))
            frames[f] = frames[f][:rng.randrange(len(frames[f]) + 1)] + bytes(rng.randrange(3))
        elif kind == 2:  # random frames
            frames = [bytearray(rng.randbytes(rng.randrange(64))) for _ in range(rng.randint(1, 4))]
        else:  # drop or add frames
            frames = frames[:rng.randrange(len(frames) + 1)] + [bytearray(rng.randbytes(8))] * rng.randrange(2)
        tried += 1
        try:
            msg = decode([bytes(f) for f in frames])
        except ProtocolError:
            continue
        decoded += 1
        for arr in msg.arrays.values():  # whatever decodes is self-consistent
            assert arr.dtype.name in {"float32", "float64", "uint8", "int32", "int64", "bool"}
    assert tried == 5000 and decoded < tried
