"""``tune``: a Ray Tune sweep over any registered agent and preset.

Each trial is an ordinary ``train`` run in ``<out>/trials/<trial>/`` (so ``evaluate``, ``export`` and
``--resume`` take it), its config the preset's with the sampled values. Every metrics row a trial logs
is reported to Tune; ASHA (Li et al. 2020) stops the trials that trail at each rung. At the end the
results table goes to ``<out>/results.csv`` and the best trial's config and run directory to
``<out>/best.json``.

The search space is a YAML file of ``field: {distribution: arguments}`` (fields of the agent's config,
``learning_rate`` or ``ppo.learning-rate`` alike)::

    learning_rate: {loguniform: [1.0e-4, 1.0e-2]}
    batch_size: {choice: [32, 64, 128]}
    gamma: {uniform: [0.9, 0.999]}
    n_steps: {randint: [64, 257]}        # upper bound excluded
    ent_coef: {grid: [0.0, 0.01]}        # every value, crossed with the samples

or a Python file defining ``SPACE = {field: ray.tune distribution}``.
"""

from __future__ import annotations

import csv
import dataclasses
import json
import os
import runpy
import time
from dataclasses import dataclass
from typing import Any

import tyro

from sensorimotor.errors import UserError, check

DISTRIBUTIONS = ("choice", "uniform", "loguniform", "randint", "grid")


@dataclass(frozen=True)
class TuneArgs:
    """Sweep an agent's hyperparameters with Ray Tune (ASHA early stopping)."""

    agent: tyro.conf.Positional[str]
    """A registered agent (``sensorimotor train --help`` lists them)."""
    space: str
    """The search space: a YAML file (``field: {loguniform: [lo, hi]}``...) or a Python file with SPACE."""
    env: str | None = None
    """Registered env id; default the agent's default env."""
    env_options: dict[str, str] = dataclasses.field(default_factory=dict)
    """Options for the task's constructor (``--env-options laps 1``), the same in every trial."""
    preset: str | None = None
    """The preset the sampled values replace fields of; default the env's own."""
    trials: int = 8
    """Samples drawn from the space (each grid value is crossed with every sample)."""
    steps: int = 100_000
    """Environment steps per trial (the preset's ``total_steps`` is replaced)."""
    metric: str = "episode_return"
    """A metric of the trials' log rows to compare them by."""
    mode: str = "max"
    grace_steps: int | None = None
    """ASHA: steps every trial gets before it can be stopped; default a quarter of ``steps``."""
    reduction_factor: int = 2
    """ASHA: the share of trials kept at each rung is 1 / reduction_factor."""
    cpus_per_trial: float = 1.0
    out: str | None = None
    """The sweep's folder; default ``runs/tune-<agent>-<env>-<time>``."""
    seed: int = 0
    ray_address: str | None = None
    """A Ray cluster to run the trials on; default a local one with this machine's cores."""


def load_space(path: str, config_type: type, agent: str) -> dict[str, Any]:
    """The search space in ``path`` as Ray Tune distributions, keyed by config field names; an unknown
    field or distribution is one line."""
    from ray import tune

    check(os.path.isfile(path), f"tune space {path} not found: give a YAML or Python file.")
    if path.endswith(".py"):
        raw = runpy.run_path(path).get("SPACE")
        check(isinstance(raw, dict), f"{path} defines no SPACE dict.")
    else:
        import yaml

        try:
            raw = yaml.safe_load(open(path))
        except yaml.YAMLError as exc:
            raise UserError(f"tune space {path} is not valid YAML: {str(exc).splitlines()[0]}") from None
        check(isinstance(raw, dict) and raw, f"tune space {path} must map config fields to distributions.")
    fields = {f.name for f in dataclasses.fields(config_type)}
    space = {}
    for key, value in raw.items():
        name = str(key).removeprefix(f"{agent}.").removeprefix("--").replace("-", "_")
        if name not in fields:
            raise UserError(f"tune space {path} names an unknown flag {key!r}; {agent}'s fields: "
                            f"{', '.join(sorted(fields))}.")
        if path.endswith(".py"):
            space[name] = value
            continue
        check(isinstance(value, dict) and len(value) == 1 and next(iter(value)) in DISTRIBUTIONS,
              f"tune space {path}: {key} must be one of {{{', '.join(DISTRIBUTIONS)}: [...]}}, got {value!r}.")
        kind, args = next(iter(value.items()))
        check(isinstance(args, list) and args, f"tune space {path}: {key}.{kind} needs a list of values.")
        if kind in ("uniform", "loguniform", "randint"):
            check(len(args) == 2, f"tune space {path}: {key}.{kind} takes [low, high], got {args}.")
        if kind == "choice":
            space[name] = tune.choice(args)
        elif kind == "grid":
            space[name] = tune.grid_search(args)
        else:
            space[name] = getattr(tune, kind)(*args)
    return space


def _trial(params: dict[str, Any]) -> None:
    """One trial inside a Ray worker: an ordinary training run that reports each metrics row to Tune."""
    from ray import tune

    from sensorimotor.agents.registry import agent_spec
    from sensorimotor.app.run_dir import RunArgs
    from sensorimotor.app.train import train
    from sensorimotor.utils.logging import add_metrics_listener, remove_metrics_listener

    setup, sampled = params["_setup"], {k: v for k, v in params.items() if k != "_setup"}
    spec = agent_spec(setup["agent"])
    _, preset = spec.preset(setup["env"], setup["preset"])
    config = dataclasses.replace(preset, total_steps=setup["steps"], **sampled)
    context = tune.get_context()
    run_dir = os.path.join(setup["out"], "trials", context.get_trial_id())
    last = {}

    def report(step: int, row: dict[str, float]) -> None:
        last.update(row)  # a row without the metric carries the last value forward
        if setup["metric"] in last:
            tune.report({**last, "step": step, "run_dir": run_dir})

    add_metrics_listener(report)
    try:
        train(spec.name, RunArgs(env=setup["env"], env_options=dict(setup["env_options"]), preset=setup["preset"],
                                 seed=setup["seed"], run_dir=run_dir,
                                 checkpoint_every=max(setup["steps"] // 4, 1), progress=False), config)
    finally:
        remove_metrics_listener(report)


def tune_agent(args: TuneArgs) -> dict[str, Any]:
    """Runs the sweep; returns the best trial (config, metric, run directory)."""
    from sensorimotor.agents.collectors.ray_farm import init_ray
    from sensorimotor.agents.registry import agent_spec
    from sensorimotor.envs import spec as env_spec

    spec = agent_spec(args.agent)
    env = args.env or spec.run_defaults.get("env") or spec.smoke_env
    env_spec(env)
    preset_name, preset = spec.preset(env, args.preset)
    check(args.trials >= 1 and args.steps >= 1, f"--trials and --steps must be positive, got {args.trials}, {args.steps}.")
    check(args.mode in ("max", "min"), f"--mode must be max or min, got {args.mode!r}.")
    check(args.reduction_factor >= 2, f"--reduction-factor must be at least 2, got {args.reduction_factor}.")
    space = load_space(args.space, spec.config_type, spec.name)
    dataclasses.replace(preset, total_steps=args.steps).validate()
    out = os.path.abspath(args.out or os.path.join("runs", f"tune-{spec.name}-{env.replace('/', '_')}-"
                                                            f"{time.strftime('%Y%m%d-%H%M%S')}"))
    os.makedirs(out, exist_ok=True)
    init_ray(args.ray_address)
    from ray import tune
    from ray.tune.schedulers import ASHAScheduler

    grace = args.grace_steps or max(args.steps // 4, 1)
    scheduler = ASHAScheduler(time_attr="step", max_t=args.steps, grace_period=min(grace, args.steps),
                              reduction_factor=args.reduction_factor)
    setup = {"agent": spec.name, "env": env, "preset": preset_name, "steps": args.steps, "out": out,
             "seed": args.seed, "metric": args.metric, "env_options": dict(args.env_options)}
    tuner = tune.Tuner(
        tune.with_resources(_trial, {"cpu": args.cpus_per_trial}),
        param_space={**space, "_setup": setup},
        tune_config=tune.TuneConfig(metric=args.metric, mode=args.mode, scheduler=scheduler, num_samples=args.trials),
        run_config=tune.RunConfig(name="ray", storage_path=out, verbose=0),
    )
    results = tuner.fit()
    rows = []
    for result in results:
        metrics = result.metrics or {}
        params = {k: v for k, v in (result.config or {}).items() if k != "_setup"}
        rows.append({"trial": os.path.basename(metrics.get("run_dir", "")) or "?", **params,
                     args.metric: metrics.get(args.metric), "step": metrics.get("step"),
                     "run_dir": metrics.get("run_dir"), "error": str(result.error).splitlines()[0] if result.error else ""})
    _write_table(os.path.join(out, "results.csv"), rows)
    scored = [r for r in rows if r[args.metric] is not None]
    check(bool(scored), f"no trial reported {args.metric!r}; see {out}/results.csv "
          f"(first error: {next((r['error'] for r in rows if r['error']), 'none')}).")
    best = dict((max if args.mode == "max" else min)(scored, key=lambda r: r[args.metric]))
    best["config_json"] = os.path.join(best["run_dir"], "config.json")  # the whole config, as train wrote it
    summary = {"agent": spec.name, "env": env, "preset": preset_name, "metric": args.metric, "mode": args.mode,
               "best": best, "trials": len(rows), "results": os.path.join(out, "results.csv"), "out": out}
    with open(os.path.join(out, "best.json"), "w") as f:
        json.dump(summary, f, indent=2, default=str)
    return summary


def _write_table(path: str, rows: list[dict[str, Any]]) -> None:
    keys = list(dict.fromkeys(k for row in rows for k in row))
    with open(path, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=keys)
        writer.writeheader()
        writer.writerows(rows)
