"""Evaluating a DQN run with the Atari protocol (Machado et al. 2018, the v5 defaults):

- epsilon-greedy with ``epsilon`` (0.001 by default; 0.05 reproduces Mnih et al. 2015), stated in
  the summary;
- sticky actions with probability 0.25 and up to 30 no-ops after a reset;
- whole games: no life-loss terminals, 108k emulator frames at most.

Without video the games run on the ``ale`` backend; with video on the gymnasium wrapper path (the same
preprocessed observations, tested equal), whose emulator renders the full-colour frames the MP4 shows.
"""

from __future__ import annotations

from dataclasses import replace

import torch

from sensorimotor.agents.dqn.agent import DQN
from sensorimotor.agents.dqn.training import DQNTrainArgs, _resume_args
from sensorimotor.agents.episode_tally import EpisodeTally
from sensorimotor.agents.training import load_run_checkpoint
from sensorimotor.envs import make_vec
from sensorimotor.envs.registry import spec
from sensorimotor.utils.device import device_for_run

PROTOCOL = {"sticky_actions": 0.25, "noop_max": 30, "life_loss_terminal": False, "max_frames": 108_000}


def load_dqn_run(run_dir: str, checkpoint: str | None = None) -> tuple[DQNTrainArgs, DQN, dict, str]:
    """A DQN run's settings, agent, training state and checkpoint path (default: its last checkpoint)."""
    args = _resume_args(run_dir)
    device = device_for_run(args.dqn.device, run_dir)
    if device != args.dqn.device:
        args = replace(args, dqn=replace(args.dqn, device=device, replay_device=None))
    weights, state, path = load_run_checkpoint(run_dir, "dqn", args.dqn.device, checkpoint)
    env = make_vec(args.env, 1, backend="sync")
    agent = DQN(args.dqn, tuple(env.single_observation_space.shape), int(env.single_action_space.n))
    env.close()
    agent.load_weights(weights)
    return args, agent, state, path


def make_eval_env(args: DQNTrainArgs, num_envs: int, video: bool):
    atari = "atari" in spec(args.env).tags
    if video:
        return make_vec(args.env, 1, backend="sync", render_mode="rgb_array")
    if atari:
        return make_vec(args.env, num_envs, backend="ale", life_loss_terminal=False)
    return make_vec(args.env, num_envs, backend=args.backend)


@torch.inference_mode()
def run_dqn_episodes(agent: DQN, env, episodes: int, epsilon: float, seed: int):
    """Returns, lengths and whether each episode terminated (rather than hit its frame cap)."""
    tally = EpisodeTally(env.num_envs, episodes)
    obs = env.reset(seed=seed)
    while not tally.complete:
        obs, _, terminated, truncated, info = env.step(agent.act(obs, epsilon))
        end = info.get("episode_end", terminated | truncated)
        if bool(end.any()):
            tally.add(end, info["episode_return"].cpu(), info["episode_length"].cpu(), terminated.cpu())
    return tally.returns, tally.lengths, tally.terminated


def protocol_summary(args: DQNTrainArgs, epsilon: float) -> dict:
    out = {"epsilon": epsilon}
    if "atari" in spec(args.env).tags:
        out.update(PROTOCOL)
    return out
