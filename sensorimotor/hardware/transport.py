"""ZeroMQ sockets for the bridge: address policy, size limits, and send/receive of :mod:`protocol`
messages. Binding anywhere but loopback needs a shared secret (every message then carries an HMAC)."""

from __future__ import annotations

from urllib.parse import urlparse

import zmq

from sensorimotor.hardware import protocol

LOOPBACK = {"127.0.0.1", "localhost", "::1", "[::1]"}
# ZeroMQ drops (and disconnects) a peer whose message exceeds this: hostile sizes never reach decode.
MAX_MESSAGE_BYTES = protocol.MAX_HEADER_BYTES + 4 * protocol.MAX_ARRAY_BYTES + 1024


class TransportError(RuntimeError):
    """A bad address or a missing secret; the text says what to do."""


def check_address(address: str, secret: bytes | None) -> None:
    """Loopback and ``ipc://`` are always allowed; any other address needs ``secret``."""
    parsed = urlparse(address)
    if parsed.scheme == "ipc":
        return
    if parsed.scheme != "tcp" or not parsed.hostname or parsed.port is None:
        raise TransportError(f"robot address {address!r} must look like tcp://HOST:PORT or ipc://PATH")
    if parsed.hostname not in LOOPBACK and not secret:
        raise TransportError(f"refusing {address}: only 127.0.0.1 is served without a shared secret; "
                             "pass --secret-file (HMAC-SHA256 on every message) to use another address")


def make_socket(context: zmq.Context, kind: int) -> zmq.Socket:
    sock = context.socket(kind)
    sock.setsockopt(zmq.LINGER, 0)
    sock.setsockopt(zmq.MAXMSGSIZE, MAX_MESSAGE_BYTES)
    if kind == zmq.ROUTER:
        sock.setsockopt(zmq.ROUTER_MANDATORY, 0)  # a vanished client must not raise in the control loop
    sock.setsockopt(zmq.SNDHWM, 100)
    sock.setsockopt(zmq.RCVHWM, 100)
    return sock


def send(sock: zmq.Socket, msg: protocol.Message, secret: bytes | None, identity: bytes | None = None) -> None:
    frames = protocol.encode(msg, secret)
    if identity is not None:
        frames = [identity, *frames]
    try:
        sock.send_multipart(frames, flags=zmq.NOBLOCK, copy=False)
    except zmq.Again:
        pass  # the peer is not reading: dropping a state is safer than blocking the control loop
