"""Bridge loop timing on loopback: our deploy runtime (absolute deadlines, ONNX policy) against the
loop most robot scripts start from (``time.sleep(period)`` after an eager torch forward pass), both
driving the same MockRobot server process at 50 and 100 Hz, for an MLP and an 84x84 CNN policy with a
camera frame per step. Then the watchdog's trip time against its bound.

    .venv/bin/python benchmarks/bridge_latency.py [--seconds 8] [--repeats 3]
    .venv/bin/python benchmarks/bridge_latency.py --flood    # bridge_flood_<hz>: the loop under a flood

Jitter: |wake-up - deadline| for ours; for the naive loop the same against its own ideal grid would
grow without bound (sleep drifts), so both are also compared on period jitter |interval - period|.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np
import torch
from torch import nn

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from benchmarks.common import machine_line  # noqa: E402
from sensorimotor.hardware.cameras import MockCamera, frame_to_policy  # noqa: E402
from sensorimotor.hardware.client import RobotClient  # noqa: E402
from sensorimotor.hardware.policy import OnnxPolicy  # noqa: E402
from sensorimotor.hardware.robot import planar_arm_spec  # noqa: E402
from sensorimotor.hardware.runtime import DeployLoop  # noqa: E402
from sensorimotor.policies.export import save_onnx, write_manifest  # noqa: E402
from sensorimotor.policies.modules.cnn import ConvEncoder  # noqa: E402

HOLD_AFTER = 2
SERVER = """
import sys
from sensorimotor.hardware.robot import MockRobot, planar_arm_spec
from sensorimotor.hardware.safety import SafetyConfig
from sensorimotor.hardware.server import RobotServer
server = RobotServer(MockRobot(planar_arm_spec({period})), "{address}", safety=SafetyConfig({hold}, 1000))
print("ready", flush=True)
server.serve(handle_signals=True)
"""


class MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(2, 64), nn.Tanh(), nn.Linear(64, 64), nn.Tanh(), nn.Linear(64, 2))
        self.input_names, self.output_names = ["obs"], ["action"]

    def forward(self, obs):
        return self.net(obs).clamp(-0.05, 0.05)


class CNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder, self.head = ConvEncoder((3, 84, 84)), nn.Linear(256, 2)
        self.input_names, self.output_names = ["obs"], ["action"]

    def forward(self, obs):
        return self.head(self.encoder(obs)).clamp(-0.05, 0.05)


def export(model: nn.Module, obs_shape, dtype, folder: str, spec_hash: str) -> str:
    os.makedirs(folder, exist_ok=True)
    save_onnx(model.eval(), os.path.join(folder, "policy.onnx"), (torch.zeros(1, *obs_shape, dtype=dtype),))
    write_manifest(os.path.join(folder, "manifest.json"), {
        "files": {"onnx": "policy.onnx"}, "robot_spec_hash": spec_hash,
        "inputs": {"obs": {"shape": ["batch", *obs_shape], "dtype": str(dtype).replace("torch.", "")}},
        "outputs": {"action": {"shape": ["batch", 2], "dtype": "float32"}}})
    return folder


def start_server(hz: float, port: int) -> subprocess.Popen:
    code = SERVER.format(period=1.0 / hz, address=f"tcp://127.0.0.1:{port}", hold=HOLD_AFTER)
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "ready"
    return proc


def ours(policy_dir: str, address: str, hz: float, seconds: float, pixels: bool) -> dict:
    policy = OnnxPolicy(policy_dir)
    client = RobotClient(address, planar_arm_spec(1.0 / hz).hash())
    client.connect()
    camera = MockCamera(84, 84, fps=2 * hz).start() if pixels else None
    if camera:
        camera.read()
    loop = DeployLoop(policy, client, hz, camera=camera, frame_max_age_s=0.1, obs_key="position")
    result = loop.run(max_steps=int(hz * seconds))
    client.close()
    if camera:
        camera.stop()
    t = result.timing
    return {"latency_p50": t["latency"]["p50_ms"], "latency_p99": t["latency"]["p99_ms"],
            "jitter_p50": t["jitter"]["p50_ms"], "jitter_p99": t["jitter"]["p99_ms"],
            "period_jitter_p99": _period_jitter(loop.timer.series["period"], hz),
            "policy_p50": t["section/policy"]["p50_ms"], "overruns": t["overruns"]}


def _period_jitter(intervals_s: list[float], hz: float) -> float:
    """p99 of |wake-to-wake interval - period|, milliseconds."""
    return round(float(np.percentile(np.abs(np.asarray(intervals_s) - 1.0 / hz), 99)) * 1e3, 4)


def naive(model: nn.Module, address: str, hz: float, seconds: float, pixels: bool) -> dict:
    """The loop robot scripts start from: sleep(period) after the work, eager torch inference."""
    torch.set_num_threads(1)
    client = RobotClient(address, planar_arm_spec(1.0 / hz).hash())
    state = client.connect()
    camera = MockCamera(84, 84, fps=2 * hz).start() if pixels else None
    if camera:
        camera.read()
    period = 1.0 / hz
    wakes, latencies = [], []
    with torch.inference_mode():
        for _ in range(int(hz * seconds)):
            wake = time.monotonic()
            wakes.append(wake)
            if len(wakes) > 1:
                state = client.recv_state(timeout_s=1.0)
            if pixels:
                obs = torch.from_numpy(frame_to_policy(camera.read_latest(0.1).image, (3, 84, 84)))[None]
            else:
                obs = torch.from_numpy(state.arrays["position"].astype(np.float32))[None]
            client.send_goal(model(obs)[0].numpy())
            latencies.append(time.monotonic() - wake)
            time.sleep(max(0.0, period - (time.monotonic() - wake)))
    client.close()
    if camera:
        camera.stop()
    intervals = np.diff(wakes)
    lat = np.array(latencies) * 1e3
    return {"latency_p50": round(float(np.percentile(lat, 50)), 4), "latency_p99": round(float(np.percentile(lat, 99)), 4),
            "period_jitter_p99": _period_jitter(intervals, hz), "mean_rate_hz": round(1.0 / float(intervals.mean()), 2)}


def watchdog_trip(address: str, hz: float, trials: int = 10) -> dict:
    """Seconds from the last goal sent to the first state reporting ``hold``, in periods."""
    client = RobotClient(address, planar_arm_spec(1.0 / hz).hash())
    trips = []
    for _ in range(trials):
        client.connect()
        for _ in range(int(hz // 2)):
            client.step(np.zeros(2))
        last = time.monotonic()
        while True:
            state = client.recv_state(answering=None, timeout_s=1.0)
            if state.mode == "hold":
                break
        trips.append((state.received_at - last) * hz)
        client.close()
        time.sleep(0.05)
    return {"trip_periods_median": round(float(np.median(trips)), 2), "trip_periods_max": round(float(max(trips)), 2),
            "bound_periods": HOLD_AFTER + 1}


def _median_of(runs: list[dict]) -> dict:
    return {k: round(float(np.median([r[k] for r in runs])), 4) for k in runs[0]}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--repeats", type=int, default=3, help="runs per setting; medians are printed")
    parser.add_argument("--flood", action="store_true",
                        help="only the flood rows, bridge_flood_<hz> (benchmarks/bridge_flood.py)")
    args = parser.parse_args()
    print(machine_line())
    if args.flood:
        from benchmarks.bridge_flood import report

        for hz in (50, 100):
            report(hz, seconds=4.0)
        return
    spec_hashes = {hz: planar_arm_spec(1.0 / hz).hash() for hz in (50, 100)}
    folder = tempfile.mkdtemp(prefix="bridge-bench-")
    models = {"mlp": MLP(), "cnn": CNN()}
    rows = []
    for hz in (50, 100):
        proc = start_server(hz, 5790 + hz)
        address = f"tcp://127.0.0.1:{5790 + hz}"
        try:
            for name, model in models.items():
                pixels = name == "cnn"
                shape, dtype = ((3, 84, 84), torch.uint8) if pixels else ((2,), torch.float32)
                policy_dir = export(model, shape, dtype, os.path.join(folder, f"{name}{hz}"), spec_hashes[hz])
                a = _median_of([ours(policy_dir, address, hz, args.seconds, pixels) for _ in range(args.repeats)])
                b = _median_of([naive(model, address, hz, args.seconds, pixels) for _ in range(args.repeats)])
                ratio = b["period_jitter_p99"] / max(a["period_jitter_p99"], 1e-6)
                rows.append({"benchmark": f"bridge_latency_{name}_{hz}", "ours": a, "naive_sleep_loop": b,
                             "period_jitter_p99_ratio": round(ratio, 1)})
                print(json.dumps(rows[-1]), flush=True)
            print(json.dumps({"benchmark": f"bridge_watchdog_{hz}", **watchdog_trip(address, hz)}), flush=True)
        finally:
            proc.terminate()
            proc.wait(10)


if __name__ == "__main__":
    main()
