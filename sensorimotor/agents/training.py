"""``train``: builds env, agent, logger and runner from a config, or resumes a run directory."""

from __future__ import annotations

import dataclasses
import json
import os
import time
from dataclasses import dataclass, field

import torch

from sensorimotor.agents.env_builder import build_env, normalizers
from sensorimotor.agents.on_policy_runner import OnPolicyRunner
from sensorimotor.agents.ppo import PPO, PPOConfig, make_agent
from sensorimotor.errors import UserError, check
from sensorimotor.utils.checkpoint import chosen_checkpoint, load_checkpoint, save_checkpoint
from sensorimotor.utils.logging import MetricsLogger
from sensorimotor.utils.seeding import rng_state, seed_everything, set_rng_state
from sensorimotor.utils.threads import intra_op_threads


@dataclass(frozen=True)
class RunArgs:
    """What every training run takes, whatever the agent."""

    env: str = "HalfCheetah-v5"
    """Registered env id (``sensorimotor.envs.list_envs()``)."""
    preset: str | None = None
    """Named preset of the agent's config; default: the env's own (see agents/<agent>/presets.py)."""
    backend: str | None = None
    """Vector backend (``sync``, ``mujoco``, ``ale``...); default: the env's fastest."""
    seed: int = 0
    run_dir: str | None = None
    """Where config, metrics, checkpoints and videos go; default ``runs/<env>-<agent>-s<seed>-<time>``."""
    resume: str | None = None
    """A run directory to continue from its last complete checkpoint (other flags are ignored)."""
    checkpoint_every: int = 100_000
    """Environment steps between checkpoints."""
    wandb: bool = False
    """Also log to wandb (offline mode when not logged in)."""
    progress: bool = True
    """Show a progress bar with steps/s and recent return."""


@dataclass(frozen=True)
class TrainArgs(RunArgs):
    """Train a PPO agent on a registered env."""

    ppo: PPOConfig = field(default_factory=PPOConfig)


def train(args: TrainArgs) -> str:
    """Train (or resume) and return the run directory."""
    if args.resume:
        args, resume_from = _resume_args(args.resume), args.resume
    else:
        resume_from = None
    config = args.ppo
    config.validate()
    check(args.checkpoint_every > 0, f"checkpoint_every must be positive, got {args.checkpoint_every}.")
    seed_everything(args.seed)
    env = build_env(args.env, config, backend=args.backend)
    threads = torch.get_num_threads()
    # Before the agent is built: its initial weights (orthogonal init runs a QR) differ in the last bits
    # with the thread count, and the CartPole LSTM learning test is sensitive to that.
    torch.set_num_threads(intra_op_threads(tuple(env.single_observation_space.shape), config.device))
    agent = make_agent(config, env.single_observation_space, env.single_action_space)
    run_dir = args.run_dir or os.path.join("runs", f"{args.env}-ppo-s{args.seed}-{time.strftime('%Y%m%d-%H%M%S')}")
    os.makedirs(run_dir, exist_ok=True)
    with open(os.path.join(run_dir, "config.json"), "w") as f:
        json.dump({"agent": "ppo", **dataclasses.asdict(dataclasses.replace(args, resume=None, run_dir=run_dir))}, f, indent=2)

    stateful = normalizers(env)
    global_step = 0
    if resume_from:
        global_step = _restore(resume_from, agent, stateful)

    def save(step: int) -> None:
        state = {"step": step, "agent": "ppo", "optimizer": agent.opt_state, "rng": rng_state(),
                 **{k: w.state_dict() for k, w in stateful.items()}}
        save_checkpoint(run_dir, step, agent.weights(), state)

    logger = MetricsLogger(run_dir, json.load(open(os.path.join(run_dir, "config.json"))), use_wandb=args.wandb,
                           resume_step=global_step if resume_from else None)
    # A resumed run continues with fresh episodes: reseed so it does not replay the first ones.
    runner = OnPolicyRunner(agent, env, logger, save, args.checkpoint_every, global_step,
                            seed=args.seed + global_step, progress_bar=args.progress)
    try:
        runner.learn()
    finally:
        logger.close()
        env.close()
        torch.set_num_threads(threads)  # the caller's setting, for in-process use
    return run_dir


def read_run_config(run_dir: str, agent: str) -> dict:
    """The saved ``config.json`` of a run that ``agent`` trained, or a one-line :class:`UserError`."""
    path = os.path.join(run_dir, "config.json")
    if not os.path.isfile(path):
        raise UserError(f"cannot resume {run_dir}: no config.json there (not a run directory).")
    try:
        saved = json.load(open(path))
    except json.JSONDecodeError as exc:
        raise UserError(f"cannot resume {run_dir}: config.json is not valid JSON ({exc}).") from None
    if saved.get("agent") != agent:
        raise UserError(f"cannot resume {run_dir} with {agent}: it was trained by {saved.get('agent')!r}.")
    return saved


def load_run_checkpoint(run_dir: str, agent: str, device, which: str | None = None) -> tuple[dict, dict, str]:
    """Weights, state and path of the last complete checkpoint (or checkpoint ``which``, see
    :func:`chosen_checkpoint`) of a run that ``agent`` trained."""
    path = chosen_checkpoint(run_dir, which)
    if path is None:
        raise UserError(f"cannot resume {run_dir}: it has no complete checkpoint yet.")
    weights, state = load_checkpoint(path, device)
    if state.get("agent") != agent:
        raise UserError(f"checkpoint {path} belongs to agent {state.get('agent')!r}, not {agent}.")
    return weights, state, path


def _resume_args(run_dir: str) -> TrainArgs:
    return args_from_dict(read_run_config(run_dir, "ppo"), run_dir=run_dir)


def args_from_dict(saved: dict, run_dir: str | None = None) -> TrainArgs:
    """Rebuild :class:`TrainArgs` from a saved ``config.json``."""
    ppo_fields = {f.name for f in dataclasses.fields(PPOConfig)}
    ppo = {k: v for k, v in saved.get("ppo", {}).items() if k in ppo_fields}
    ppo["hidden"] = tuple(ppo.get("hidden", (64, 64)))
    arg_fields = {f.name for f in dataclasses.fields(TrainArgs)} - {"ppo", "run_dir", "resume"}
    kwargs = {k: v for k, v in saved.items() if k in arg_fields}
    return TrainArgs(**kwargs, ppo=PPOConfig(**ppo), run_dir=run_dir or saved.get("run_dir"))


def _restore(run_dir: str, agent: PPO, stateful: dict) -> int:
    weights, state, path = load_run_checkpoint(run_dir, "ppo", agent.device)
    agent.load_weights(weights)
    agent.opt_state = state["optimizer"]
    for key, wrapper in stateful.items():
        wrapper.load_state_dict(state[key])
    set_rng_state(state["rng"])
    print(f"resuming {run_dir} from step {state['step']} ({path})")
    return int(state["step"])
