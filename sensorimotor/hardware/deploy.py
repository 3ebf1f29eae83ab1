"""``sensorimotor deploy`` and ``sensorimotor replay``: the command-line side of the bridge."""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass

import numpy as np
import tyro

from sensorimotor.errors import UserError
from sensorimotor.hardware.client import RobotClient, RobotRefused, RobotUnreachable
from sensorimotor.hardware.policy import OnnxPolicy, PolicyLoadError
from sensorimotor.hardware.recording import Recorder, read_recording
from sensorimotor.hardware.runtime import DeployLoop
from sensorimotor.hardware.transport import TransportError


@dataclass(frozen=True)
class DeployArgs:
    """Run an exported policy on a served robot at a fixed rate."""

    policy: tyro.conf.Positional[str]
    """A run directory (its ``export/`` is used) or an export folder with manifest.json."""
    robot: str = "tcp://127.0.0.1:5555"
    camera: str | None = None
    """The policy's camera: opencv:INDEX|PATH|URL, realsense[:SERIAL] or mock[:HxW@FPS]."""
    hz: float | None = None
    """Loop rate; default: the robot's control rate."""
    episodes: int | None = None
    """Stop after this many episodes (episodic, i.e. simulated, robots)."""
    max_steps: int | None = None
    record: str | None = None
    """Recording file (.smrec); default: <policy>/deploy/<time>.smrec."""
    secret_file: str | None = None
    """Shared secret for a robot server outside loopback."""
    frame_max_age_ms: float = 100.0
    timeout_s: float = 2.0


def deploy(args: DeployArgs) -> dict:
    export_dir = args.policy if os.path.isfile(os.path.join(args.policy, "manifest.json")) \
        else os.path.join(args.policy, "export")
    try:
        policy = OnnxPolicy(export_dir)
    except PolicyLoadError as exc:
        raise UserError(str(exc)) from None
    manifest = policy.manifest
    if args.hz is not None and not args.hz > 0:
        raise UserError(f"--hz must be positive, got {args.hz}")
    if not policy.spec_hash:
        raise UserError(f"{export_dir}/manifest.json names no robot spec: export with --robot-spec FILE|sim")
    secret = _read_secret(args.secret_file)
    try:
        client = RobotClient(args.robot, policy.spec_hash, secret=secret, timeout_s=args.timeout_s)
        client.connect()
    except (TransportError, RobotUnreachable, RobotRefused) as exc:
        raise UserError(str(exc)) from None
    camera = None
    if args.camera:
        from sensorimotor.hardware.cameras import CameraError
        from sensorimotor.hardware.registry import make_camera

        try:
            camera = make_camera(args.camera).start()
            camera.read(timeout_s=args.timeout_s)
        except CameraError as exc:
            client.close()
            raise UserError(str(exc)) from None
    hz = args.hz or 1.0 / client.spec.control_period_s
    record = args.record or os.path.join(os.path.dirname(os.path.abspath(export_dir)), "deploy",
                                         time.strftime("%Y%m%d-%H%M%S") + ".smrec")
    recorder = Recorder(record, {"manifest": manifest, "robot": client.spec.to_dict(), "hz": hz,
                                 "address": args.robot})
    # A pixel policy without --camera sees the frames the robot serves with each state (sim robots);
    # a grasp policy (manifest "goals") reads the camera too.
    pixels = "goals" in manifest or policy.camera_input or len(policy.obs_shape) == 3
    obs_key = "camera" if camera is None and pixels and client.spec.cameras else "obs"
    if camera is None and pixels and not client.spec.cameras:
        client.close()
        raise UserError(f"{export_dir} is a camera policy and {client.spec.name} serves no camera: pass --camera.")
    if "goals" in manifest:  # a grasp policy's task steps become a Cartesian arm's absolute goals
        from sensorimotor.hardware.grasp_goals import GraspGoals

        try:
            policy = GraspGoals(policy, manifest["goals"])
        except ValueError as exc:
            client.close()
            raise UserError(f"{export_dir}/manifest.json: {exc}") from None
    loop = DeployLoop(policy, client, hz, camera=camera, frame_max_age_s=args.frame_max_age_ms / 1e3,
                      recorder=recorder, obs_key=obs_key)
    from sensorimotor.hardware.cameras import CameraError

    try:
        result = loop.run(episodes=args.episodes, max_steps=args.max_steps)
    except (RobotUnreachable, CameraError) as exc:
        # Closing the session below makes the server hold the robot.
        raise UserError(f"{exc}; the robot holds; the recording up to here is in {record}") from None
    finally:
        client.close()
        if camera is not None:
            camera.stop()
    returns = result.episode_returns
    return {"steps": result.steps, "stopped": result.stopped_because, "recording": record,
            "episodes": len(returns), "return_mean": float(np.mean(returns)) if returns else None,
            "returns": returns, "goals_rejected": result.rejected_events, "timing": result.timing}


@dataclass(frozen=True)
class ReplayArgs:
    """Summarise a recording, or play its actions back to a served robot at the recorded timing."""

    recording: tyro.conf.Positional[str]
    robot: str | None = None
    secret_file: str | None = None


def replay(args: ReplayArgs) -> dict:
    if not os.path.isfile(args.recording):
        raise UserError(f"no recording at {args.recording}")
    try:
        records = list(read_recording(args.recording))
    except (ValueError, TypeError) as exc:
        raise UserError(f"{args.recording} is not a readable recording: {exc}") from None
    if not records or records[0].get("kind") != "header":
        raise UserError(f"{args.recording} has no header record: not a sensorimotor recording")
    header, steps = records[0], [r for r in records[1:] if r.get("kind") == "step"]
    summary = {"steps": len(steps), "episodes": len({r["episode"] for r in steps}), "hz": header.get("hz"),
               "duration_s": steps[-1]["t"] - steps[0]["t"] if len(steps) > 1 else 0.0}
    if args.robot is None:
        return summary
    from sensorimotor.hardware.spec import RobotSpec

    spec_hash = RobotSpec.from_dict(header["robot"]).hash()
    client = RobotClient(args.robot, spec_hash, secret=_read_secret(args.secret_file))
    try:
        client.connect()
        start, t_first = time.monotonic(), steps[0]["t"] if steps else 0.0
        for record in steps:
            target = start + record["t"] - t_first
            time.sleep(max(0.0, target - time.monotonic()))
            client.send_goal(record["arrays"]["action"])
        summary["replayed"] = len(steps)
    except (RobotUnreachable, RobotRefused) as exc:
        raise UserError(str(exc)) from None
    finally:
        client.close()
    return summary


def _read_secret(path: str | None) -> bytes | None:
    if path is None:
        return None
    if not os.path.isfile(path):
        raise UserError(f"secret file {path} not found")
    secret = open(path, "rb").read().strip()
    if len(secret) < 16:
        raise UserError(f"secret in {path} is {len(secret)} bytes; use at least 16 random bytes")
    return secret


def print_json(obj: dict) -> None:
    print(json.dumps(obj, indent=2, default=float))
