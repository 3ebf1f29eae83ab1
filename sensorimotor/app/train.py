"""``train`` and ``--resume`` for any registered agent: one flow from a config to a run directory."""

from __future__ import annotations

import os
from dataclasses import replace
from typing import Any

import torch

from sensorimotor.agents.imitation_runner import ImitationRunner
from sensorimotor.agents.off_policy_runner import OffPolicyRunner
from sensorimotor.agents.on_policy_runner import OnPolicyRunner
from sensorimotor.agents.registry import AgentSpec, agent_spec
from sensorimotor.app.checkpointing import load_agent_checkpoint, restore_replay, save_run_checkpoint
from sensorimotor.app.run_dir import RunArgs, RunDir
from sensorimotor.errors import UserError, check
from sensorimotor.utils.logging import MetricsLogger
from sensorimotor.utils.options import parse_options
from sensorimotor.utils.seeding import seed_everything
from sensorimotor.utils.threads import intra_op_threads

RUNNERS = {"on_policy": OnPolicyRunner, "off_policy": OffPolicyRunner, "imitation": ImitationRunner}


def train(agent: str, run: RunArgs, config: Any, env=None) -> str:
    """Train agent ``agent`` with ``config`` as ``run`` says (or resume ``run.resume``); returns the run
    directory. ``env``: a VecEnv the caller built (the Python API), instead of one built from ``run.env``."""
    if run.resume:
        return resume(run.resume)
    spec = agent_spec(agent)
    config.validate()
    check(run.checkpoint_every > 0, f"checkpoint_every must be positive, got {run.checkpoint_every}.")
    check(run.keep_checkpoints >= 1, f"keep_checkpoints must be >= 1, got {run.keep_checkpoints}.")
    run_dir = RunDir(run.run_dir or RunDir.default_path(spec.name, run.env, run.seed))
    run = replace(run, run_dir=run_dir.path)
    return _train(spec, run, config, run_dir, checkpoint=None, env=env)


def resume(path: str, more_steps: int | None = None, env=None) -> str:
    """Continue the run in ``path`` from its last complete checkpoint, with its saved settings; with
    ``more_steps``, for that many steps past the checkpoint (the Python API's second ``learn``), on
    ``env`` when the caller built it."""
    run_dir = RunDir(path)
    spec, run, config = run_dir.read()
    checkpoint = run_dir.checkpoint()
    if more_steps is not None:
        done = int(os.path.basename(checkpoint).removeprefix("step_"))
        config = replace(config, total_steps=done + int(more_steps))
    config.validate()
    return _train(spec, run, config, run_dir, checkpoint=checkpoint, env=env)


def _train(spec: AgentSpec, run: RunArgs, config: Any, run_dir: RunDir, checkpoint: str | None, env=None) -> str:
    seed_everything(run.seed)
    own_env = env is None  # an env the caller built stays open for the caller
    check(run.collectors >= 0 and run.envs_per_collector >= 1 and run.broadcast_every >= 1,
          f"--collectors must be >= 0, --envs-per-collector and --broadcast-every >= 1, got {run.collectors}, "
          f"{run.envs_per_collector} and {run.broadcast_every}.")
    check(run.collectors == 0 or spec.runner == "off_policy",
          f"--collectors is for off-policy agents (dqn, sac, qtopt); {spec.name} collects on-policy.")
    options = parse_options(run.env_options)
    if own_env and run.collectors:  # the collectors hold the envs; the learner's one only sizes the replay
        env = spec.make_env(run.env, config, num_envs=1, backend="sync", env_options=options)
    elif own_env:
        env = spec.make_env(run.env, config, backend=run.backend, env_options=options)
    try:
        spec.check_observations(run.env, env.single_observation_space)
    except UserError:
        if own_env:
            env.close()
        raise
    threads = torch.get_num_threads()
    # Before the agent is built: its initial weights (orthogonal init runs a QR) differ in the last bits
    # with the thread count, and the CartPole LSTM learning test is sensitive to that.
    obs_shape = tuple(env.single_observation_space.shape or ())  # a Dict space has no shape
    torch.set_num_threads(spec.threads(obs_shape, config) if spec.threads else intra_op_threads(obs_shape, config.device))
    try:
        agent = spec.build(config, env.single_observation_space, env.single_action_space)
        saved = run_dir.write_config(spec.name, run, config)
        step = 0
        if checkpoint is not None:
            step = int(load_agent_checkpoint(checkpoint, spec.name, agent, env, training=True)["step"])
            print(f"resuming {run_dir.path} from step {step} ({checkpoint})")
        logger = MetricsLogger(run_dir.path, saved, use_wandb=run.wandb,
                               resume_step=step if checkpoint is not None else None)
        runner = farm = None

        def save(at: int) -> None:
            # An imitation run's aggregate is its only copy of the expert's labels: always saved.
            keep = (spec.runner == "off_policy" and run.save_replay) or spec.runner == "imitation"
            replay = runner.replay if keep else None
            save_run_checkpoint(run_dir.path, at, spec.name, agent, env, replay, keep=run.keep_checkpoints)

        try:
            extra = {}
            if run.collectors:
                from sensorimotor.agents.collectors.ray_farm import ArmFarm

                farm = ArmFarm(spec.name, config, run.env, run.collectors, run.envs_per_collector, seed=run.seed + step,
                               address=run.ray_address, env_options=options)
                extra = {"farm": farm, "broadcast_every": run.broadcast_every}
            # A resumed run continues with fresh episodes: reseed so it does not replay the first ones.
            runner = RUNNERS[spec.runner](agent, env, logger, save, run.checkpoint_every, step,
                                          seed=run.seed + step, progress_bar=run.progress, **extra)
            if checkpoint is not None and spec.runner in ("off_policy", "imitation"):
                restore_replay(runner, checkpoint, run_dir.path, step)
            runner.learn()
        finally:
            logger.close()
            if farm is not None:
                farm.close()
    finally:
        if own_env:
            env.close()
        torch.set_num_threads(threads)  # the caller's setting, for in-process use
    return run_dir.path

