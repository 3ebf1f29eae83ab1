"""``export``: a run's last checkpoint, of any agent, or a Stable-Baselines3 model zip, as a deployable
policy (ONNX, TorchScript) and a manifest."""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass
from typing import Any, Literal

import gymnasium as gym
import numpy as np
import torch
import tyro

from sensorimotor.agents.env_builder import normalizers
from sensorimotor.app.loading import load_run
from sensorimotor.errors import UserError, check
from sensorimotor.policies.export import ExportedPolicy, save_onnx, save_torchscript, write_manifest

FORMATS = ("onnx", "torchscript")


@dataclass(frozen=True)
class ExportArgs:
    """Export the last checkpoint of a run directory (any agent) to ``<run>/export/``, or an SB3 model
    zip (PPO, A2C, SAC, TD3, DQN; MLP or CNN policy) to ``<zip without .zip>-export/``."""

    run_dir: tyro.conf.Positional[str]
    """A run directory, or an SB3 model ``.zip``."""
    env: str | None = None
    """SB3 models: the registered env id the model was trained on (for the manifest and robot spec)."""
    formats: tuple[Literal["onnx", "torchscript"], ...] = FORMATS
    """Any of ``onnx`` (needs the ``onnx`` extra) and ``torchscript``."""
    camera_size: tuple[int, int] | None = None
    """Pixel policies: (height, width) of the deploy camera; the graph then takes RGB frames of that
    size, channels last, and does grayscale and resize inside."""
    frame_stack: Literal["inside", "caller"] = "inside"
    """Policies trained on a stack of frames (DQN on Atari): ``inside`` (the graph takes one frame and
    carries the earlier ones as its state, zeros at an episode start) or ``caller`` (the graph takes
    the whole stack, oldest frame first)."""
    robot_spec: str = "sim"
    """The robot the policy is for: a RobotSpec JSON file, ``sim`` (the served sim robot of the run's
    task, see scripts/serve_sim_robot.py; the grasping tasks' Cartesian arm, ``serve --robot
    sim-arm:ID``), ``sim-car`` (a driving task's car, ``serve --robot sim-car:ID``), ``sim-arm`` or
    ``none``. Its hash goes into the manifest; the robot server refuses a policy whose
    hash differs."""
    append_action: tuple[float, ...] = ()
    """Constants appended to every action: a steering-only driving policy on a car takes
    ``--append-action 0.6``, a cruise throttle, so the graph commands [steering, throttle]."""


def export(args: ExportArgs) -> dict:
    """Writes the policy files and ``manifest.json``; returns the manifest."""
    unknown = [f for f in args.formats if f not in FORMATS]
    check(not unknown, f"unknown export format {unknown[0] if unknown else ''!r}; choose from {', '.join(FORMATS)}.")
    check(args.frame_stack in ("inside", "caller"), f"--frame-stack must be 'inside' or 'caller', got {args.frame_stack!r}.")
    check(all(math.isfinite(v) for v in args.append_action), "--append-action values must be finite numbers.")
    if args.run_dir.endswith(".zip") and os.path.isfile(args.run_dir):
        return _export(args, _sb3_source(args))
    loaded = load_run(args.run_dir)
    try:
        source = PolicySource(
            env_id=loaded.run.env, model=loaded.agent.export_module(), obs_space=loaded.env.single_observation_space,
            action_space=loaded.env.single_action_space, norm=normalizers(loaded.env).get("obs_norm"),
            frame_stack=loaded.env.metadata.get("frame_stack"), step=loaded.step,
            checkpoint=os.path.relpath(loaded.checkpoint, args.run_dir), control_period=_control_period(loaded.env),
            out_dir=export_dir(args))
        return _export(args, source)
    finally:
        loaded.env.close()


def export_dir(args: ExportArgs) -> str:
    """``<run>/export`` for a run directory, ``<model>-export`` beside an SB3 zip."""
    if args.run_dir.endswith(".zip"):
        return args.run_dir.removesuffix(".zip") + "-export"
    return os.path.join(args.run_dir, "export")


@dataclass
class PolicySource:
    """What export needs of a trained policy, wherever it was trained."""

    env_id: str
    model: torch.nn.Module
    obs_space: gym.Space
    action_space: gym.Space
    norm: Any
    """The frozen observation normalizer, or None."""
    frame_stack: int | None
    step: int
    checkpoint: str
    control_period: float | None
    out_dir: str


def _sb3_source(args: ExportArgs) -> PolicySource:
    from sensorimotor.app.sb3_interop import SB3Actor, load_sb3_model
    from sensorimotor.envs import make_vec

    check(args.env is not None, f"exporting the SB3 model {args.run_dir} needs --env ID: the registered env it was "
          "trained on (for the manifest's env, control period and robot spec).")
    model = load_sb3_model(args.run_dir)
    env = make_vec(args.env, 1, backend="sync")
    try:
        ours = tuple(env.single_observation_space.shape)
        check(ours == tuple(model.observation_space.shape), f"the SB3 model observes {model.observation_space.shape}, "
              f"{args.env} gives {ours}: give the env it was trained on.")
        frame_stack, period = env.metadata.get("frame_stack"), _control_period(env)
    finally:
        env.close()
    return PolicySource(env_id=args.env, model=SB3Actor(model), obs_space=model.observation_space,
                        action_space=model.action_space, norm=None, frame_stack=frame_stack, step=int(model.num_timesteps),
                        checkpoint=os.path.basename(args.run_dir), control_period=period,
                        out_dir=export_dir(args))


def _export(args: ExportArgs, source: PolicySource) -> dict:
    if isinstance(source.obs_space, gym.spaces.Dict):
        return _export_dict(args, source)
    env_id, frame_stack, model, norm = source.env_id, source.frame_stack, source.model, source.norm
    obs_space, action_space = source.obs_space, source.action_space
    continuous = isinstance(action_space, gym.spaces.Box)
    pixels = obs_space.dtype == np.uint8
    stack_inside = bool(frame_stack) and frame_stack > 1 and args.frame_stack == "inside"
    # What the model sees per step, and what one new frame of it is.
    frame_shape = tuple(obs_space.shape)
    if stack_inside:
        frame_shape = (obs_space.shape[0] // frame_stack, *obs_space.shape[1:])
    check(args.camera_size is None or (pixels and len(obs_space.shape) == 3),
          f"--camera-size is for pixel policies; {env_id} observes {tuple(obs_space.shape)} {obs_space.dtype}.")
    check(args.camera_size is None or (frame_shape[0] in (1, 3) and not (frame_stack and not stack_inside)),
          f"--camera-size needs a policy that sees one gray or RGB image per step; {env_id} observes "
          f"{tuple(obs_space.shape)} ({'a stack of frames: export with --frame-stack inside' if frame_stack else 'object channels: feed it the native observation'}).")
    check(args.camera_size is None or min(args.camera_size) > 0, f"--camera-size must be positive, got {args.camera_size}.")
    camera = (frame_shape, tuple(args.camera_size)) if args.camera_size else None
    robot_spec = _robot_spec(args.robot_spec, env_id)  # before any file: a wrong choice writes nothing
    policy = ExportedPolicy(
        model.cpu(),
        obs_mean=None if norm is None else norm.stats.mean.cpu(),
        obs_var=None if norm is None else norm.stats.var.cpu(),
        obs_clip=10.0 if norm is None else norm.clip, obs_eps=1e-8 if norm is None else norm.eps,
        action_low=action_space.low if continuous else None, action_high=action_space.high if continuous else None,
        camera=camera, frame_stack=frame_stack if stack_inside else None, action_tail=args.append_action,
    )
    out_dir = source.out_dir
    os.makedirs(out_dir, exist_ok=True)
    input_shape = (*args.camera_size, 3) if camera else frame_shape
    example = policy.example_inputs(input_shape, dtype=torch.uint8 if pixels else torch.float32,
                                    frame_shape=frame_shape)
    files = {}
    if "torchscript" in args.formats:
        files["torchscript"] = os.path.basename(save_torchscript(policy, os.path.join(out_dir, "policy.pt"), example))
    if "onnx" in args.formats:
        files["onnx"] = os.path.basename(save_onnx(policy, os.path.join(out_dir, "policy.onnx"), example))
    obs_input = {"shape": ["batch", *input_shape], "dtype": "uint8" if pixels else "float32",
                 "units": _obs_units(pixels, camera), "layout": "camera_hwc" if camera else "native",
                 "normalized_inside": norm is not None or pixels}
    if frame_stack:
        obs_input["frame_stack"] = {"frames": frame_stack, "order": "oldest first, the newest frame last",
                                    "episode_start": "zeros in place of the frames before the episode's first",
                                    "inside": stack_inside}
    manifest = {
        "env": env_id,
        "step": source.step,
        "checkpoint": source.checkpoint,
        "files": files,
        "inputs": {"obs": obs_input},
        "outputs": {"action": _action_layout(action_space, args.append_action)},
        "recurrent": None,
        "control_period_s": source.control_period,
        "robot_spec_hash": None,
    }
    manifest.update(robot_spec)
    if policy.stateful:
        state = {"shape": ["batch", *policy.state_shape(frame_shape)], "dtype": "float32",
                 "reset": "feed zeros at an episode start, else the previous call's next_state"}
        if stack_inside:
            state["holds"] = f"the {frame_stack - 1} frames before obs, oldest first, 0-255"
        manifest["inputs"]["state"] = state
        manifest["outputs"]["next_state"] = dict(state)
    if policy.recurrent:
        core = model.actor_core
        manifest["recurrent"] = {"cell": core.kind, "layers": core.layers, "hidden": core.hidden,
                                 "layout": "h of each layer, then c of each layer (LSTM)" if core.kind == "lstm"
                                 else "h of each layer"}
    write_manifest(os.path.join(out_dir, "manifest.json"), manifest)
    return manifest


def _export_dict(args: ExportArgs, source: PolicySource) -> dict:
    """A policy over ``Dict`` observations (QT-Opt's camera + gripper state): its export module is the
    whole graph, one input per observation part (``obs_<key>``), the action out."""
    check(args.camera_size is None, "--camera-size is for single-image policies; this one takes the task's "
          "own camera image and state.")
    check(not args.append_action, "--append-action is for single-image policies (a driving car's throttle).")
    robot_spec = _robot_spec(args.robot_spec, source.env_id)  # before any file: a wrong choice writes nothing
    policy, space = source.model, source.obs_space
    keys = [name.removeprefix("obs_") for name in policy.input_names]
    check(set(keys) <= set(space.spaces), f"the policy reads {keys}, the task observes {list(space.spaces)}.")
    example = tuple(torch.zeros(1, *space[k].shape, dtype=torch.uint8 if space[k].dtype == np.uint8 else torch.float32)
                    for k in keys)
    out_dir = source.out_dir
    os.makedirs(out_dir, exist_ok=True)
    files = {}
    if "torchscript" in args.formats:
        files["torchscript"] = os.path.basename(save_torchscript(policy, os.path.join(out_dir, "policy.pt"), example))
    if "onnx" in args.formats:
        files["onnx"] = os.path.basename(save_onnx(policy, os.path.join(out_dir, "policy.onnx"), example))
    parts = {k: {"input": f"obs_{k}", "shape": ["batch", *space[k].shape],
                 "dtype": "uint8" if space[k].dtype == np.uint8 else "float32",
                 "units": _obs_units(space[k].dtype == np.uint8, None)} for k in keys}
    manifest = {
        "env": source.env_id, "step": source.step, "checkpoint": source.checkpoint, "files": files,
        "inputs": {"obs": {"parts": parts, "layout": "dict", "normalized_inside": True}},
        "outputs": {"action": _action_layout(source.action_space)},
        "recurrent": None, "control_period_s": source.control_period, "robot_spec_hash": None,
    }
    manifest.update(robot_spec)
    grasp_config = _grasp_config(source.env_id)
    if grasp_config is not None:  # how the deploy side turns the task's steps into a Cartesian arm's goals
        from sensorimotor.hardware.grasp_goals import grasp_goals_section

        manifest["goals"] = grasp_goals_section(grasp_config)
    write_manifest(os.path.join(out_dir, "manifest.json"), manifest)
    return manifest


def _obs_units(pixels: bool, camera) -> str:
    if camera:
        return "RGB camera frame 0-255, channels last; grayscale and resize to the trained size inside"
    return "pixels 0-255, channels first" if pixels else "the env's raw observation"


def _robot_spec(choice: str, env_id: str) -> dict:
    if choice == "none":
        return {}
    # Imported here: the hardware layer sits above agents; only export needs the spec's hash.
    from sensorimotor.hardware.spec import RobotSpec

    if choice == "sim-car":
        from sensorimotor.hardware.sim_car import sim_car_spec

        spec = sim_car_spec(env_id)
        return {"robot_spec_hash": spec.hash(), "robot_spec": spec.to_dict()}
    grasp_config = _grasp_config(env_id)
    if choice == "sim-arm" or (choice == "sim" and grasp_config is not None):
        from sensorimotor.hardware.sim_arm import grasp_arm_spec

        check(grasp_config is not None, f"--robot-spec sim-arm is for the grasping tasks (KukaGrasp*), not {env_id}.")
        spec = grasp_arm_spec(grasp_config)
        return {"robot_spec_hash": spec.hash(), "robot_spec": spec.to_dict()}
    if choice == "sim":
        from sensorimotor.hardware.sim_robot import sim_spec

        try:
            spec = sim_spec(env_id)
        except Exception as exc:  # noqa: BLE001 - a task a robot cannot serve (discrete actions, pixels)
            return {"robot_spec_hash": None, "robot_spec_note": f"no sim robot for {env_id}: {exc}"}
    else:
        check(os.path.isfile(choice), f"robot spec {choice!r} not found: give a RobotSpec JSON file, 'sim' or 'none'.")
        try:
            spec = RobotSpec.from_dict(json.load(open(choice)))
        except (ValueError, TypeError, KeyError) as exc:
            raise UserError(f"robot spec {choice} is not a valid RobotSpec: {exc}") from None
    return {"robot_spec_hash": spec.hash(), "robot_spec": spec.to_dict()}


def _grasp_config(env_id: str | None):
    """The grasping task's config for a ``KukaGrasp*`` id, else None (PyBullet is not imported for others)."""
    if not env_id or not env_id.startswith("KukaGrasp"):
        return None
    from sensorimotor.sim.pybullet.grasping import variant_config

    return variant_config(env_id)


def _action_layout(space: gym.Space, tail: tuple[float, ...] = ()) -> dict:
    if isinstance(space, gym.spaces.Box):
        layout = {"shape": ["batch", int(space.shape[0]) + len(tail)], "dtype": "float32",
                  "low": space.low.tolist() + list(tail), "high": space.high.tolist() + list(tail),
                  "clamped_inside": True}
        if tail:
            layout["appended"] = {"values": list(tail), "after": int(space.shape[0]),
                                  "note": "constants after the policy's own actions (e.g. a cruise throttle)"}
        return layout
    return {"shape": ["batch"], "dtype": "int64", "choices": int(space.n)}


def _control_period(env) -> float | None:
    # Unwrap to the vector backend; MuJoCo tasks expose dt (timestep x frame skip), others may not.
    while hasattr(env, "env"):
        env = env.env
    dt = getattr(env, "dt", None)
    return float(dt) if dt is not None else None
