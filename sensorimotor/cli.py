"""The ``sensorimotor`` command: ``train AGENT ...`` (one subcommand per registered agent: ppo, dqn,
sac...), ``evaluate RUN_DIR ...``, ``export RUN_DIR``, ``deploy POLICY --robot ADDRESS``, ``replay RECORDING``,
``serve --robot KIND``, ``collect --env ID --out DATASET`` (episodes of a scripted expert), ``autonomy
RUN_DIR`` (PilotNet's metric for driving policies on held-out tracks), ``tune AGENT --space FILE`` (a Ray Tune
sweep with ASHA), ``average RUN_DIR --checkpoints A B ...`` (one policy from the mean of checkpoints' weights).

Flags are generated from the registry's config dataclasses by tyro. A preset (``--preset NAME``, or the env's
own) supplies the defaults; any other flag overrides it. Errors a user can fix print one line and
exit with code 2.
"""

from __future__ import annotations

import argparse
import json
import sys

from sensorimotor.errors import UserError


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    _stop_on_sigterm()
    try:
        return _dispatch(argv)
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    except Exception as exc:  # noqa: BLE001 - only the hardware errors a user can fix are caught below
        if not isinstance(exc, _hardware_errors()):
            raise
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted: the last complete checkpoint is kept; continue with --resume RUN_DIR", file=sys.stderr)
        return 130


def _hardware_errors() -> tuple[type, ...]:
    """The hardware layer's errors that say what a user should fix (a bad or unreachable address, a
    refused session, a camera or a policy file that will not open). Only modules already imported are
    asked, so the check itself never imports pyzmq or onnxruntime."""
    names = {"sensorimotor.hardware.transport": ("TransportError",),
             "sensorimotor.hardware.client": ("RobotUnreachable", "RobotRefused"),
             "sensorimotor.hardware.robot": ("RobotError",), "sensorimotor.hardware.cameras.base": ("CameraError",),
             "sensorimotor.hardware.policy": ("PolicyLoadError",)}
    return tuple(getattr(sys.modules[module], name) for module, found in names.items() if module in sys.modules
                 for name in found)


def _stop_on_sigterm() -> None:
    """Make SIGTERM (a scheduler's or ``kill``'s stop) end a command as Ctrl-C does: the ``finally``
    blocks close the envs. Without it Python dies at once and the engines the envs started (VizDoom runs
    one process per env) outlive it."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        return  # signal handlers can only be set from the main thread (e.g. main() called from a test)

    def interrupt(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupt)


def _dispatch(argv: list[str]) -> int:
    commands = {"train": _train, "evaluate": _evaluate, "export": _export, "deploy": _deploy, "replay": _replay,
                "serve": _serve, "collect": _collect, "autonomy": _autonomy, "tune": _tune,
                "average": _average}
    if not argv or argv[0] in ("-h", "--help") or argv[0] not in commands:
        if argv and argv[0] not in ("-h", "--help"):
            print(f"error: unknown command {argv[0]!r}; use one of: {', '.join(commands)}", file=sys.stderr)
            return 2
        print("usage: sensorimotor {train AGENT,evaluate,export,deploy,replay,serve,collect,autonomy,tune,average} ...  (add --help "
              "after a command for its flags)")
        return 0
    return commands[argv[0]](argv[1:])


def _train(argv: list[str]) -> int:
    """``train AGENT [flags]`` for every registered agent, or ``train --resume RUN_DIR``."""
    from sensorimotor.agents.registry import agent_spec, list_agents

    if not argv or argv[0] in ("-h", "--help"):
        print("usage: sensorimotor train AGENT [--env ID] [--preset NAME] [...]  (train AGENT --help: every flag)")
        print("       sensorimotor train --resume RUN_DIR")
        for name in list_agents():
            print(f"  {name:<6} {agent_spec(name).summary}")
        return 0
    if argv[0].startswith("--resume"):
        return _resume(argv)
    spec = agent_spec(argv[0])
    argv = argv[1:]
    if "--resume" in argv or any(a.startswith("--resume=") for a in argv):
        return _resume(argv, expected=spec.name)
    from sensorimotor.app.cli_args import train_args_type
    from sensorimotor.app.train import train
    from sensorimotor.envs import spec as env_spec

    args_type = train_args_type(spec)
    # Find the env and preset first: the preset becomes the defaults of every other flag.
    pre = argparse.ArgumentParser(add_help=False)
    pre.add_argument("--env", default=spec.run_defaults.get("env", args_type.env))
    pre.add_argument("--preset", default=None)
    pre.add_argument("--backend", default=None)
    known, _ = pre.parse_known_args(argv)
    if not any(a in ("-h", "--help") for a in argv):
        env_spec(known.env)  # an unknown id fails here with close matches, before anything is built
    preset_name, preset = spec.preset(known.env, known.preset, backend=known.backend)
    argv, preset = _num_envs_shorthand(argv, preset)
    default = args_type(**{**spec.run_defaults, "env": known.env, "preset": preset_name, spec.name: preset})
    args = parse_flags(args_type, default=default, args=argv, prog=f"sensorimotor train {spec.name}")
    run, config = split_train_args(args, spec.name)
    print(f"run directory: {train(spec.name, run, config)}")
    return 0


def _resume(argv: list[str], expected: str | None = None) -> int:
    """``--resume RUN_DIR`` continues with the run's own settings; naming another agent is an error."""
    from sensorimotor.app.run_dir import RunDir
    from sensorimotor.app.train import resume

    pre = argparse.ArgumentParser(add_help=False)
    pre.add_argument("--resume", required=True)
    known, _ = pre.parse_known_args(argv)
    saved = RunDir(known.resume).read_saved()
    if expected is not None and saved["agent"] != expected:
        raise UserError(f"cannot resume {known.resume} with {expected}: it was trained by {saved['agent']!r} "
                        f"(sensorimotor train --resume {known.resume} continues it).")
    print(f"run directory: {resume(known.resume)}")
    return 0


def split_train_args(args, agent: str):
    """``(RunArgs, agent config)`` from the generated ``<Agent>TrainArgs``."""
    import dataclasses

    from sensorimotor.app.run_dir import RunArgs

    run = RunArgs(**{f.name: getattr(args, f.name) for f in dataclasses.fields(RunArgs)})
    return run, getattr(args, agent)


def parse_flags(cls, args: list[str], prog: str, default=None):
    """``tyro.cli`` with its parse errors (an unknown flag, a value outside a ``Literal``'s choices)
    turned into one :class:`UserError` line; ``--help`` prints as tyro does."""
    import contextlib
    import io
    import re

    import tyro

    captured = io.StringIO()
    try:
        with contextlib.redirect_stderr(captured):
            return tyro.cli(cls, args=args, prog=prog, default=default)
    except SystemExit as exc:
        if not exc.code:
            raise
        body = [line for line in captured.getvalue().splitlines() if not line.lstrip().startswith(("╭", "╰"))]
        lines = [" ".join(re.sub(r"[\u2500-\u257f]", " ", line).split()) for line in body]  # tyro's box
        message = " ".join(line for line in lines if line and not line.startswith("For full helptext"))
        raise UserError(f"{message or 'bad flags'} (see {prog} --help)") from None


def _num_envs_shorthand(argv: list[str], config):
    """``--num-envs N`` (or ``--num-envs=N``) sets the agent config's ``num_envs``: returns the other
    flags and the updated config."""
    import dataclasses

    pre = argparse.ArgumentParser(add_help=False)
    pre.add_argument("--num-envs", type=str, default=None)
    known, rest = pre.parse_known_args(argv)
    if known.num_envs is None:
        return argv, config
    if not known.num_envs.isdigit() or int(known.num_envs) < 1:
        raise UserError(f"--num-envs must be a positive integer, got {known.num_envs!r}.")
    return rest, dataclasses.replace(config, num_envs=int(known.num_envs))


def _evaluate(argv: list[str]) -> int:
    from sensorimotor.app.evaluate import EvaluateArgs, evaluate

    args = parse_flags(EvaluateArgs, args=argv, prog="sensorimotor evaluate")
    summary = evaluate(args)
    print(json.dumps({k: v for k, v in summary.items() if k != "checkpoint"}, indent=2))
    return 0


def _average(argv: list[str]) -> int:
    from sensorimotor.app.average import AverageArgs, average_checkpoints

    summary = average_checkpoints(parse_flags(AverageArgs, args=argv, prog="sensorimotor average"))
    print(json.dumps(summary, indent=2))
    return 0


def _export(argv: list[str]) -> int:
    from sensorimotor.app.export import ExportArgs, export, export_dir

    args = parse_flags(ExportArgs, args=argv, prog="sensorimotor export")
    manifest = export(args)
    print(json.dumps({"export": export_dir(args), "files": manifest["files"]}, indent=2))
    return 0


def _deploy(argv: list[str]) -> int:
    from sensorimotor.hardware.deploy import DeployArgs, deploy, print_json

    print_json(deploy(parse_flags(DeployArgs, args=argv, prog="sensorimotor deploy")))
    return 0


def _serve(argv: list[str]) -> int:
    from sensorimotor.hardware.serving import ServeArgs, serve

    serve(parse_flags(ServeArgs, args=argv, prog="sensorimotor serve"))
    return 0


def _collect(argv: list[str]) -> int:
    from sensorimotor.app.collect import CollectArgs, collect

    print(json.dumps(collect(parse_flags(CollectArgs, args=argv, prog="sensorimotor collect")), indent=2))
    return 0


def _replay(argv: list[str]) -> int:
    from sensorimotor.hardware.deploy import ReplayArgs, print_json, replay

    print_json(replay(parse_flags(ReplayArgs, args=argv, prog="sensorimotor replay")))
    return 0


if __name__ == "__main__":
    sys.exit(main())


def _tune(argv: list[str]) -> int:
    from sensorimotor.app.tune import TuneArgs, tune_agent

    print(json.dumps(tune_agent(parse_flags(TuneArgs, args=argv, prog="sensorimotor tune")), indent=2, default=str))
    return 0


def _autonomy(argv: list[str]) -> int:
    from sensorimotor.app.autonomy import AutonomyArgs, evaluate_autonomy

    args = parse_flags(AutonomyArgs, args=argv, prog="sensorimotor autonomy")
    print(json.dumps(evaluate_autonomy(args), indent=2))
    return 0
