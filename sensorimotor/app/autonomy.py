"""``autonomy``: PilotNet's evaluation of a driving policy on held-out tracks.

Each of ``tracks`` held-out tracks (``RacecarDrive-Test-v0`` seeds ``0..tracks-1``) is driven once for
``laps`` laps with interventions on: when the car is more than ``intervention_fraction`` lane widths off
the centre line, the expert puts it back on the centre line and an intervention is counted (the
paper's simulator did the same). Autonomy is ``1 - interventions x 6 s / elapsed time`` summed over
all tracks (``sim/pybullet/driving/autonomy.py``). The policy is a trained run (``RUN_DIR``) or the
env's own expert (``--expert``, the reference). All tracks drive at once, one env each.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass

import numpy as np
import torch
import tyro

from sensorimotor.errors import UserError, check
from sensorimotor.sim.pybullet.driving.autonomy import autonomy


@dataclass(frozen=True)
class AutonomyArgs:
    """Autonomy, laps and cross-track error of a driving policy on held-out tracks."""

    run_dir: tyro.conf.Positional[str | None] = None
    """A run of ``sensorimotor train`` on a driving task (its last checkpoint); omit with ``--expert``
    or ``--recording``."""
    recording: str | None = None
    """Score a deploy recording (``sensorimotor deploy`` on ``serve --robot sim-car:... --options
    interventions true``) instead of driving here: autonomy through the bridge."""
    expert: bool = False
    """Evaluate the env's pure-pursuit expert instead of a run."""
    env: str | None = None
    """The held-out driving id; default the run's env with ``-Test`` (``RacecarDrive-Test-v0``)."""
    tracks: int = 20
    laps: float = 3.0
    checkpoint: str | None = None
    video: str | None = None
    """Write the first track's drive (front camera beside a top-down view) to this MP4."""
    video_seconds: float = 30.0
    out: str | None = None
    """Write the summary JSON here (default ``<run>/eval/autonomy.json`` for a run)."""
    backend: str | None = None


def test_id(train_id: str) -> str:
    """``RacecarDrive-v0`` -> ``RacecarDrive-Test-v0`` (ids that are held out already stay)."""
    if "-Test-" in train_id:
        return train_id
    name, _, version = train_id.rpartition("-")
    return f"{name}-Test-{version}"


def evaluate_autonomy(args: AutonomyArgs) -> dict:
    from sensorimotor.envs import make_vec
    from sensorimotor.envs.registry import spec

    if args.recording is not None:
        return autonomy_from_recording(args.recording)
    check(args.expert != (args.run_dir is not None), "give a run directory, --expert or --recording (one of them).")
    check(1 <= args.tracks <= 200 and 0 < args.laps <= 20, "--tracks must be 1..200 and --laps in (0, 20].")
    agent, env_id, step = None, args.env, None
    if args.run_dir is not None:
        from sensorimotor.app.loading import load_run

        run = load_run(args.run_dir, num_envs=1, checkpoint=args.checkpoint)
        run.env.close()
        agent, env_id, step = run.agent, args.env or test_id(run.run.env), run.step
    check(env_id is not None, "--expert needs --env (e.g. RacecarDrive-Test-v0).")
    check("driving" in spec(env_id).tags, f"{env_id} is not a driving task; see list_envs(tag='driving').")
    env = make_vec(env_id, args.tracks, backend=args.backend, laps=args.laps, interventions=True,
                   render_mode="rgb_array" if args.video else None)
    try:
        result = _drive(env, agent, args)
    finally:
        env.close()
    summary = {"env": env_id, "policy": "expert" if args.expert else args.run_dir, "step": step,
               "tracks": args.tracks, "laps_asked": args.laps, **result}
    out = args.out or (os.path.join(args.run_dir, "eval", "autonomy.json") if args.run_dir else None)
    if out:
        os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
        with open(out, "w") as f:
            json.dump(summary, f, indent=2)
    return summary


@torch.inference_mode()
def _drive(env, agent, args: AutonomyArgs) -> dict:
    n = env.num_envs
    obs = env.reset(seed=0)  # env i drives held-out track i
    expert = torch.zeros(n, 1)  # the expert's action for obs: known from the second step on
    done = torch.zeros(n, dtype=torch.bool)
    interventions = torch.zeros(n, dtype=torch.int64)
    steps = torch.zeros(n, dtype=torch.int64)
    laps = torch.zeros(n)
    abs_cross = torch.zeros(n, dtype=torch.float64)
    frames, period = [], None
    while not bool(done.all()):
        action = expert.clone() if agent is None else agent.predict(obs).cpu()
        obs, _, terminated, truncated, info = env.step(action)
        live = ~done
        steps += live
        abs_cross += live * info["cross_track_error"].abs().double()
        interventions = torch.where(live, info["interventions"].long(), interventions)
        laps = torch.where(live, info["progress"].float(), laps)
        # The autoreset after an episode returns the next episode's first observation: freeze the row.
        done |= terminated | truncated
        expert = info["expert_action"].float().reshape(n, -1)
        if args.video and not bool(done[0]) and len(frames) < args.video_seconds * env.metadata.get("render_fps", 20):
            frames.append(env.render())
    period = 1.0 / env.metadata.get("render_fps", 20)
    elapsed = steps.double() * period
    per_track = [autonomy(int(k), float(t)) for k, t in zip(interventions, elapsed)]
    out = {"autonomy": autonomy(int(interventions.sum()), float(elapsed.sum())),
           "interventions": int(interventions.sum()), "elapsed_seconds": float(elapsed.sum()),
           "laps_mean": float(laps.mean()), "mean_abs_cross_track_m": float(abs_cross.sum() / steps.sum()),
           "per_track_autonomy": [round(a, 4) for a in per_track],
           "per_track_interventions": interventions.tolist()}
    if args.video and frames:
        from sensorimotor.envs.wrappers.video import write_mp4

        out["video"] = write_mp4(args.video, frames, int(round(1 / period)))
    return out


def autonomy_from_recording(path: str) -> dict:
    """Autonomy of the episodes a deploy recording holds: each episode's steps x the control period,
    and the interventions its final state reports (the served sim car's count)."""
    from sensorimotor.utils.recordfile import read_recording

    check(os.path.isfile(path), f"no recording at {path}")
    try:
        records = list(read_recording(path))
    except (ValueError, TypeError) as exc:
        raise UserError(f"{path} is not a readable recording: {exc}") from None
    check(bool(records) and records[0].get("kind") == "header", f"{path} has no header: not a deploy recording.")
    period = float(records[0]["robot"]["control_period_s"])
    steps: dict[int, int] = {}
    ends = {}
    for record in records[1:]:
        if record.get("kind") == "step":
            steps[record["episode"]] = steps.get(record["episode"], 0) + 1
        elif record.get("kind") == "episode_end":
            ends[record["episode"]] = record["arrays"]
    check(bool(ends) and all("state/interventions" in a for a in ends.values()),
          f"{path} holds no finished episode of a served sim car with interventions "
          "(serve --robot sim-car:ID --options interventions true).")
    interventions = [int(ends[e]["state/interventions"][0]) for e in sorted(ends)]
    elapsed = [steps.get(e, 0) * period for e in sorted(ends)]
    return {"recording": path, "episodes": len(ends),
            "autonomy": autonomy(sum(interventions), sum(elapsed)), "interventions": sum(interventions),
            "elapsed_seconds": sum(elapsed),
            "laps_mean": float(np.mean([ends[e]["state/progress"][0] for e in sorted(ends)])),
            "per_track_autonomy": [round(autonomy(k, t), 4) for k, t in zip(interventions, elapsed)],
            "per_track_interventions": interventions}
