"""A fault-injection proxy between a bridge client and a robot server, for fault tests.

The client connects to the proxy instead of the server. Each message, in either direction, can be
delayed (fixed plus uniform jitter), lost, duplicated, reordered (held back and sent after the next
one), or corrupted (one byte of one frame flipped); :meth:`disconnect` drops everything for a while.
Probabilities are per message; the RNG is seeded, so a failing test replays exactly.
"""

from __future__ import annotations

import heapq
import random
import threading
import time
from dataclasses import dataclass

import zmq

from sensorimotor.hardware import transport


@dataclass
class Faults:
    delay_s: float = 0.0
    jitter_s: float = 0.0
    loss: float = 0.0
    duplicate: float = 0.0
    reorder: float = 0.0
    corrupt: float = 0.0


class FaultProxy:
    """Args:
        server: the robot server's address.
        faults: what to inject (may be changed while running: ``proxy.faults = Faults(...)``).
        address: where clients connect (default: a free loopback port, see ``address`` after start).
    """

    def __init__(self, server: str, faults: Faults = Faults(), address: str = "tcp://127.0.0.1:0", seed: int = 0):
        self.server, self.faults, self.bind_address = server, faults, address
        self.address: str | None = None
        self.rng = random.Random(seed)
        self.counts = {"forwarded": 0, "lost": 0, "duplicated": 0, "reordered": 0, "corrupted": 0, "dropped": 0}
        self._down_until = 0.0
        self._stop = threading.Event()
        self._ready = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> "FaultProxy":
        self._thread = threading.Thread(target=self._run, name="fault-proxy", daemon=True)
        self._thread.start()
        self._ready.wait(5.0)
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(2.0)

    def disconnect(self, seconds: float) -> None:
        """Drop every message in both directions for ``seconds``."""
        self._down_until = time.monotonic() + seconds

    def _run(self) -> None:
        context = zmq.Context.instance()
        front = transport.make_socket(context, zmq.ROUTER)
        back = transport.make_socket(context, zmq.DEALER)
        front.bind(self.bind_address)
        self.address = front.getsockopt_string(zmq.LAST_ENDPOINT)
        back.connect(self.server)
        self._ready.set()
        queue: list[tuple[float, int, str, list[bytes]]] = []  # (due, order, direction, frames)
        held: dict[str, list[bytes] | None] = {"up": None, "down": None}
        client_id = [None]
        order = 0
        poller = zmq.Poller()
        poller.register(front, zmq.POLLIN)
        poller.register(back, zmq.POLLIN)
        try:
            while not self._stop.is_set():
                wait = 10.0 if not queue else max(0.0, (queue[0][0] - time.monotonic()) * 1e3)
                for sock, _ in poller.poll(min(wait, 10.0)):
                    frames = sock.recv_multipart()
                    if sock is front:
                        client_id[0], frames, direction = frames[0], frames[1:], "up"
                    else:
                        direction = "down"
                    for out in self._inject(frames, direction, held):
                        order += 1
                        due = time.monotonic() + self.faults.delay_s + self.rng.uniform(0, self.faults.jitter_s)
                        heapq.heappush(queue, (due, order, direction, out))
                now = time.monotonic()
                while queue and queue[0][0] <= now:
                    _, _, direction, frames = heapq.heappop(queue)
                    if direction == "up":
                        back.send_multipart(frames)
                    elif client_id[0] is not None:
                        front.send_multipart([client_id[0], *frames])
                    self.counts["forwarded"] += 1
        finally:
            front.close(0)
            back.close(0)

    def _inject(self, frames: list[bytes], direction: str, held: dict) -> list[list[bytes]]:
        f, rng = self.faults, self.rng
        if time.monotonic() < self._down_until:
            self.counts["dropped"] += 1
            return []
        if rng.random() < f.loss:
            self.counts["lost"] += 1
            return []
        if rng.random() < f.corrupt:
            self.counts["corrupted"] += 1
            i = rng.randrange(len(frames))
            if frames[i]:
                data = bytearray(frames[i])
                data[rng.randrange(len(data))] ^= 1 << rng.randrange(8)
                frames = [*frames[:i], bytes(data), *frames[i + 1:]]
        out = [frames]
        if rng.random() < f.duplicate:
            self.counts["duplicated"] += 1
            out.append(frames)
        if held[direction] is not None:
            out.append(held[direction])  # the held-back message goes after this one: reordered
            held[direction] = None
        elif rng.random() < f.reorder:
            self.counts["reordered"] += 1
            held[direction] = frames
            out.remove(frames)
        return out
