"""The bridge under a flood (row ``bridge_flood_<hz>``): a served MockRobot at ``hz`` driven by a client
that sends one goal per period, while another process floods the server's socket with garbage as
fast as it can. Measures the server loop's gap between control steps (p50, p99, max, in periods)
and, after the client stops sending goals, how many periods the watchdog takes to hold, with and
without a shared secret. Run through ``benchmarks/bridge_latency.py --flood`` or directly:

    .venv/bin/python benchmarks/bridge_flood.py [--hz 100] [--seconds 4]
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from sensorimotor.hardware.client import RobotClient  # noqa: E402
from sensorimotor.hardware.robot import MockRobot, planar_arm_spec  # noqa: E402
from sensorimotor.hardware.safety import SafetyConfig  # noqa: E402
from sensorimotor.hardware.server import RobotServer  # noqa: E402

SECRET = b"bridge-flood-benchmark-secret-32b"
HOLD_AFTER = 3


def _flood(address: str, seconds: float, sent) -> None:
    """Garbage frames from a socket of its own, as fast as ZeroMQ takes them (an unauthenticated local
    process); drops instead of blocking when the server's queue for it is full."""
    import zmq

    sock = zmq.Context.instance().socket(zmq.DEALER)
    sock.setsockopt(zmq.SNDHWM, 100_000)
    sock.connect(address)
    garbage = [b"\x85\xa1v\x01\xa4type\x91\xa4goal\xa7session\xa0\xa3seq\x00\xa1t\x00", b"\0" * 8]
    end, count = time.monotonic() + seconds, 0
    while time.monotonic() < end:
        try:
            sock.send_multipart(garbage, zmq.NOBLOCK)
            count += 1
        except zmq.Again:
            time.sleep(0.0001)
    sent.value = count
    sock.close(linger=0)


def flood_run(hz: float, seconds: float, secret: bytes | None) -> dict:
    robot = MockRobot(planar_arm_spec(1.0 / hz))
    server = RobotServer(robot, "tcp://127.0.0.1:0", secret=secret, safety=SafetyConfig(HOLD_AFTER, 10_000))
    steps: list[float] = []
    control_step = server._control_step

    def timed_step():
        steps.append(time.monotonic())
        control_step()

    server._control_step = timed_step
    thread = server.start()
    client = RobotClient(server.bound_address, robot.spec.hash(), secret=secret, timeout_s=2.0)
    client.connect()
    sent = mp.get_context("spawn").Value("q", 0)
    flooder = mp.get_context("spawn").Process(target=_flood, args=(server.bound_address, seconds + 1.0, sent))
    flooder.start()
    time.sleep(0.5)  # the flood is running
    period, started = 1.0 / hz, time.monotonic()
    k = 0
    while time.monotonic() < started + seconds:
        client.send_goal(np.array([0.1, 0.0]), ttl_s=5 * period)
        k += 1
        time.sleep(max(0.0, started + k * period - time.monotonic()))
    stopped_goals = time.monotonic()
    while server.safety.mode == "active" and time.monotonic() < stopped_goals + 2.0:
        time.sleep(period / 20)
    trip_periods = (time.monotonic() - stopped_goals) / period
    flooder.join()
    client.close(say_bye=False)
    server.stop()
    thread.join(5)
    window = np.array([started] + [t for t in steps if started <= t <= stopped_goals] + [stopped_goals])
    gaps = np.diff(window) / period  # the window's edges included: a loop that never ran shows one long gap
    return {"gap_p50": float(np.percentile(gaps, 50)), "gap_p99": float(np.percentile(gaps, 99)),
            "gap_max": float(gaps.max()), "steps": len(window) - 2, "expected_steps": int(seconds * hz),
            "goals_applied": server.stats.goals_applied, "flood_messages": int(sent.value),
            "flood_rate": sent.value / (seconds + 1.0), "bad_messages": server.stats.bad_messages,
            "flooded_periods": getattr(server.stats, "flooded_periods", 0),  # absent before the cap existed
            "watchdog_trip_periods": trip_periods}


def report(hz: float, seconds: float) -> None:
    for name, secret in (("no secret", None), ("secret", SECRET)):
        r = flood_run(hz, seconds, secret)
        print(f"bridge_flood_{hz:.0f} ({name}): loop gap p50 {r['gap_p50']:.2f} / p99 {r['gap_p99']:.2f} / max "
              f"{r['gap_max']:.2f} periods; {r['steps']} of {r['expected_steps']} control steps; "
              f"{r['goals_applied']} goals applied; flood {r['flood_messages']:,} msgs ({r['flood_rate']:,.0f}/s), "
              f"{r['bad_messages']:,} counted bad, {r['flooded_periods']} periods at the cap; watchdog hold after "
              f"{r['watchdog_trip_periods']:.2f} periods (hold_after {HOLD_AFTER})", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--hz", type=float, default=100.0)
    parser.add_argument("--seconds", type=float, default=4.0)
    args = parser.parse_args()
    report(args.hz, args.seconds)


if __name__ == "__main__":
    main()
