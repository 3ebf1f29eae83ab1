"""Recurrent PPO: the update sees exactly the states the rollout acted from; bad settings fail clearly."""

import dataclasses

import pytest
import torch

from sensorimotor.agents.env_builder import build_env
from sensorimotor.agents.on_policy_runner import OnPolicyRunner
from sensorimotor.agents.ppo import RecurrentPPO
from sensorimotor.agents.ppo.presets import PPO_LSTM_CLASSIC
from sensorimotor.agents.sequences import sequence_minibatches
from tests.helpers import run_cli


class Quiet:
    def log(self, step, metrics):
        pass


def collect(config, env_id, rollouts):
    """A fresh agent's rollouts on ``env_id``; returns the agent and the storage of the last one."""
    env = build_env(env_id, config)
    agent = RecurrentPPO(config, env.single_observation_space, env.single_action_space)
    runner = OnPolicyRunner(agent, env, Quiet(), save=lambda s: None, checkpoint_every=10**9, seed=0,
                            progress_bar=False)
    obs = env.reset(seed=0)
    agent.reset_state(env.num_envs)
    for _ in range(rollouts):
        obs = runner.collect(obs)
    env.close()
    return agent, runner.storage


@pytest.mark.parametrize("env_id, cell, shared", [
    ("CartPoleNoVel-v1", "lstm", False), ("CartPoleNoVel-v1", "gru", False), ("CartPoleNoVel-v1", "gru", True),
    ("Doom-Basic-v0", "lstm", True),  # pixels through the conv encoder, one core for both heads (preset doom)
])
def test_update_replays_the_rollout_states(env_id, cell, shared):
    config = dataclasses.replace(PPO_LSTM_CLASSIC, num_envs=4, n_steps=64, seq_len=16, batch_size=64,
                                 recurrent=cell, core_size=32, shared_core=shared, compile=False)
    # Two rollouts: in the second, chunks start mid-episode from a carried state.
    agent, storage = collect(config, env_id, rollouts=2)
    starts = storage.episode_starts
    assert starts.any() and (~starts).any()
    # The state a step was acted from is zero exactly where an episode starts.
    zero = storage.states.abs().sum(-1) == 0
    assert torch.equal(zero, starts)

    # Running every chunk through the fused cores from its saved state reproduces the rollout.
    data = {"obs": storage.obs, "starts": starts, "values": storage.values, "log_probs": storage.log_probs,
            "actions": storage.actions}
    chunks = config.rollout_size // config.sequence_length
    (batch, initial), = sequence_minibatches(data, storage.states, config.sequence_length, chunks)
    with torch.no_grad():
        logits, values = agent.model(batch["obs"], initial, batch["starts"])
        log_probs, _ = agent.model.log_prob_entropy(logits.flatten(0, 1), batch["actions"].flatten())
    torch.testing.assert_close(values, batch["values"], atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(log_probs, batch["log_probs"].flatten(), atol=1e-5, rtol=1e-5)


def test_truncated_steps_bootstrap_from_the_final_observation():
    # PendulumNoVel always ends by truncation at 200 steps.
    config = dataclasses.replace(PPO_LSTM_CLASSIC, num_envs=2, n_steps=256, batch_size=256, seq_len=None,
                                 normalize_obs=False, normalize_reward=False, compile=False)
    agent, storage = collect(config, "PendulumNoVel-v1", rollouts=1)
    t = 199
    assert storage.truncated[t].all()
    with torch.no_grad():
        next_values = agent._next_values(storage)
    # The step after a truncation acted on a reset observation; the bootstrap must not use its value.
    assert torch.equal(next_values[t], storage.next_values[t])
    assert not torch.allclose(next_values[t], storage.values[t + 1])
    torch.testing.assert_close(next_values[t - 1], storage.values[t])


@pytest.mark.parametrize("flags, message", [
    (["--ppo.seq-len", "64"], "cannot be longer than the rollout"),
    (["--ppo.seq-len", "8", "--ppo.burn-in", "8"], "burn_in"),
    (["--ppo.seq-len", "16", "--ppo.batch-size", "40"], "batch_size"),
    (["--ppo.recurrent", "transformer"], "invalid choice 'transformer' for argument '--ppo.recurrent'"),
    (["--ppo.recurrent", "None", "--ppo.seq-len", "16"], "need a recurrent model"),
])
def test_bad_recurrent_settings_exit_2_with_one_line(flags, message):
    result = run_cli("train", "ppo", "--env", "CartPoleNoVel-v1", "--ppo.n-steps", "32", *flags, timeout=120)
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0], result.stderr
