"""``train dqn``: builds env, agent, replay and the off-policy runner, or resumes a run directory.

A resumed run restores the weights, the optimizer, the step counter and, when the run saved it
(``--save-replay``, the default), the replay's contents and priorities: the newest checkpoint holds
``replay.safetensors`` (7 kB per Atari transition: 0.7 GB at 100k, 7 GB at a million; older
checkpoints drop theirs). The interrupted episodes end in the replay as truncations, since the envs
restart. Without a saved replay, the run starts with an empty one and refills for
``learning_starts`` steps before updating again, and says so.
"""

from __future__ import annotations

import dataclasses
import json
import os
import time
from dataclasses import dataclass, field

import gymnasium as gym
import torch

from sensorimotor.agents.dqn.agent import DQN
from sensorimotor.agents.dqn.config import DQNConfig
from sensorimotor.agents.off_policy_runner import OffPolicyRunner
from sensorimotor.agents.training import RunArgs, load_run_checkpoint, read_run_config
from sensorimotor.envs import make_vec
from sensorimotor.envs.registry import spec
from sensorimotor.errors import check
from sensorimotor.utils.checkpoint import load_extra, save_checkpoint
from sensorimotor.utils.logging import MetricsLogger
from sensorimotor.utils.seeding import rng_state, seed_everything, set_rng_state
from sensorimotor.utils.threads import intra_op_threads


@dataclass(frozen=True)
class DQNTrainArgs(RunArgs):
    """Train a DQN agent on a registered env with discrete actions."""

    env: str = "ALE/Pong-v5"
    checkpoint_every: int = 250_000
    save_replay: bool = True
    """Save the replay with each checkpoint (newest only) so a resumed run keeps it; off: smaller,
    faster checkpoints and a resume that refills the replay first."""
    dqn: DQNConfig = field(default_factory=DQNConfig)


def build_dqn_env(args: DQNTrainArgs, num_envs: int | None = None, training: bool = True):
    kwargs = {}
    if "atari" in spec(args.env).tags and (args.backend or spec(args.env).default_backend) == "ale":
        kwargs["life_loss_terminal"] = args.dqn.life_loss_terminal and training
    env = make_vec(args.env, num_envs or args.dqn.num_envs, backend=args.backend, device=args.dqn.device, **kwargs)
    check(isinstance(env.single_action_space, gym.spaces.Discrete),
          f"{args.env} has {env.single_action_space} actions; DQN needs a discrete action space (use ppo).")
    return env


def train_dqn(args: DQNTrainArgs) -> str:
    resume_from = args.resume
    if resume_from:
        args = _resume_args(resume_from)
    config = args.dqn
    config.validate()
    seed_everything(args.seed)
    env = build_dqn_env(args)
    obs_shape = tuple(env.single_observation_space.shape)
    threads = torch.get_num_threads()
    torch.set_num_threads(intra_op_threads(obs_shape))
    agent = DQN(config, obs_shape, int(env.single_action_space.n))
    run_dir = args.run_dir or os.path.join("runs", f"{args.env.replace('/', '-')}-dqn-s{args.seed}-{time.strftime('%Y%m%d-%H%M%S')}")
    os.makedirs(run_dir, exist_ok=True)
    config_path = os.path.join(run_dir, "config.json")
    with open(config_path, "w") as f:
        json.dump({"agent": "dqn", **dataclasses.asdict(dataclasses.replace(args, resume=None, run_dir=run_dir))}, f, indent=2)
    step, checkpoint = _restore(resume_from, agent) if resume_from else (0, None)

    def save(at: int) -> None:
        state = {"step": at, "agent": "dqn", "optimizer": agent.optimizer.state_dict(), "updates": agent.updates,
                 "rng": rng_state()}
        extra = {"replay": runner.replay.state_dict()} if args.save_replay else None
        save_checkpoint(run_dir, at, agent.weights(), state, extra=extra)

    logger = MetricsLogger(run_dir, json.load(open(config_path)), use_wandb=args.wandb,
                           resume_step=step if resume_from else None)
    runner = OffPolicyRunner(agent, env, logger, save, args.checkpoint_every, step, seed=args.seed + step,
                             progress_bar=args.progress)
    if resume_from:
        _restore_replay(runner, checkpoint, run_dir, step)
    try:
        runner.learn()
    finally:
        logger.close()
        env.close()
        torch.set_num_threads(threads)  # the caller's setting, for in-process use
    return run_dir


def _resume_args(run_dir: str) -> DQNTrainArgs:
    saved = read_run_config(run_dir, "dqn")
    names = {f.name for f in dataclasses.fields(DQNConfig)}
    dqn = DQNConfig(**{k: v for k, v in saved.get("dqn", {}).items() if k in names})
    fields = {f.name for f in dataclasses.fields(DQNTrainArgs)} - {"dqn", "run_dir", "resume"}
    return DQNTrainArgs(**{k: v for k, v in saved.items() if k in fields}, dqn=dqn, run_dir=run_dir)


def _restore(run_dir: str, agent: DQN) -> tuple[int, str]:
    weights, state, path = load_run_checkpoint(run_dir, "dqn", agent.device)
    agent.load_weights(weights)
    agent.optimizer.load_state_dict(state["optimizer"])
    agent.updates = int(state.get("updates", 0))
    set_rng_state(state["rng"])
    return int(state["step"]), path


def _restore_replay(runner: OffPolicyRunner, checkpoint: str, run_dir: str, step: int) -> None:
    saved = load_extra(checkpoint, "replay")
    if saved is None:
        runner.learning_starts_offset = step
        print(f"resuming {run_dir} from step {step} with an empty replay (the run did not save it: "
              f"--no-save-replay); it refills for {runner.agent.config.learning_starts} steps before updates continue")
        return
    runner.replay.load_state_dict(saved)
    runner.replay.cut()  # the envs restart: their interrupted episodes end here as truncations
    print(f"resuming {run_dir} from step {step} with the saved replay ({len(runner.replay):,} transitions)")
