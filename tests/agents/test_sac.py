"""SAC maths against numbers worked out by hand, the twin critics against two plain MLPs, the flat
transition replay, and bad input."""

import math

import gymnasium as gym
import numpy as np
import pytest
import torch
from torch import nn

from sensorimotor.agents.buffers.transitions import TransitionBatch, TransitionReplay
from sensorimotor.agents.sac import SAC, SACConfig
from sensorimotor.errors import UserError
from sensorimotor.policies.models.sac_networks import TwinQ, squashed_sample

OBS = gym.spaces.Box(-np.inf, np.inf, (3,), np.float32)
ACTIONS = gym.spaces.Box(np.array([-2.0, 0.0], np.float32), np.array([2.0, 1.0], np.float32))


def test_squashed_sample_by_hand():
    # u = 0 + e^0 * 0 = 0: a = tanh(0) = 0, log N(0; 0, 1) = -0.5 log(2 pi) per dimension, and the
    # tanh correction log(1 - tanh(0)^2) = 0.
    a, log_p = squashed_sample(torch.zeros(1, 2), torch.zeros(1, 2), torch.zeros(1, 2))
    assert torch.equal(a, torch.zeros(1, 2))
    torch.testing.assert_close(log_p, torch.tensor([-math.log(2 * math.pi)]))
    # One dimension, mean 0.5, log_std log(2), noise 0.25: u = 0.5 + 2 * 0.25 = 1, a = tanh(1) = 0.76159;
    # log N = -0.5 * 0.25^2 - log 2 - 0.5 log(2 pi) = -0.03125 - 0.69315 - 0.91894 = -1.64334; log(1 - tanh(1)^2) = log(0.41997) = -0.86756.
    a, log_p = squashed_sample(torch.tensor([[0.5]]), torch.tensor([[math.log(2.0)]]), torch.tensor([[0.25]]))
    torch.testing.assert_close(a, torch.tensor([[0.76159]]), atol=1e-5, rtol=0)
    torch.testing.assert_close(log_p, torch.tensor([-1.64334 + 0.86756]), atol=1e-4, rtol=0)


def test_squashed_log_density_stays_finite_at_the_bounds():
    a, log_p = squashed_sample(torch.tensor([[30.0]]), torch.zeros(1, 1), torch.zeros(1, 1))
    assert a.item() == 1.0 and torch.isfinite(log_p).all()


def test_twin_q_is_two_independent_mlps():
    torch.manual_seed(0)
    twin = TwinQ(3, 2, (8, 8))
    obs, action = torch.randn(5, 3), torch.randn(5, 2)
    out = twin(obs, action)
    assert out.shape == (2, 5)
    for i in range(2):
        mlp = nn.Sequential(nn.Linear(5, 8), nn.ReLU(), nn.Linear(8, 8), nn.ReLU(), nn.Linear(8, 1))
        with torch.no_grad():
            for layer, w, b in zip([mlp[0], mlp[2], mlp[4]], twin.weights, twin.biases):
                layer.weight.copy_(w[i].T)
                layer.bias.copy_(b[i, 0])
        torch.testing.assert_close(out[i], mlp(torch.cat([obs, action], 1)).squeeze(1))


def test_transition_replay_keeps_the_state_that_really_followed():
    replay = TransitionReplay(4, 2, (1,), (1,))
    replay.start(torch.tensor([[0.0], [10.0]]))
    # Env 1 ends its episode: its next_obs is the final observation, not the reset one.
    replay.add(torch.zeros(2, 1), torch.tensor([1.0, 2.0]), torch.tensor([False, True]), torch.tensor([False, False]),
               torch.tensor([[1.0], [100.0]]), final_obs=torch.tensor([[1.0], [11.0]]))
    replay.add(torch.ones(2, 1), torch.tensor([3.0, 4.0]), torch.tensor([False, False]), torch.tensor([True, False]),
               torch.tensor([[50.0], [101.0]]), final_obs=torch.tensor([[2.0], [101.0]]))
    assert len(replay) == 4
    assert replay.obs[:, 0].tolist() == [0.0, 10.0, 1.0, 100.0]
    assert replay.next_obs[:, 0].tolist() == [1.0, 11.0, 2.0, 101.0]  # truncation keeps its last state
    assert replay.terminated.tolist() == [False, True, False, False]
    replay.add(torch.zeros(2, 1), torch.zeros(2), torch.zeros(2, dtype=torch.bool), torch.zeros(2, dtype=torch.bool),
               torch.tensor([[51.0], [102.0]]))
    assert replay.obs[:2, 0].tolist() == [50.0, 101.0] and len(replay) == 4  # the oldest rows overwritten
    restored = TransitionReplay(8, 2, (1,), (1,))
    restored.load_state_dict(replay.state_dict())
    assert len(restored) == 4 and restored.obs[:4, 0].tolist() == [1.0, 100.0, 50.0, 101.0]  # oldest first


def test_one_update_moves_every_part_and_the_targets_by_tau():
    torch.manual_seed(0)
    agent = SAC(SACConfig(hidden=(16, 16), batch_size=8, compile=False, tau=0.5), OBS, ACTIONS)
    before = {k: v.clone() for k, v in agent.state_dict()["weights"].items()}
    batch = TransitionBatch(torch.randn(8, 3), torch.rand(8, 2) * torch.tensor([4.0, 1.0]) - torch.tensor([2.0, 0.0]),
                            torch.randn(8), torch.randn(8, 3), torch.zeros(8, dtype=torch.bool))
    metrics = agent.train_batch(batch)
    after = agent.state_dict()["weights"]
    assert set(metrics) == {"critic_loss", "actor_loss", "alpha_loss", "alpha", "q", "entropy"}
    for k in before:
        assert not torch.equal(before[k], after[k]), k
    # targets <- (1 - tau) targets + tau new critics, with tau = 0.5
    for k in [k for k in before if k.startswith("critic.")]:
        target = "critic_target." + k.removeprefix("critic.")
        torch.testing.assert_close(after[target], 0.5 * before[target] + 0.5 * after[k])
    assert agent.opt_state["critic"]["step"].item() == 1.0


def test_actions_stay_in_bounds_and_deterministic_ones_repeat():
    agent = SAC(SACConfig(hidden=(16, 16), compile=False), OBS, ACTIONS)
    obs = torch.randn(64, 3) * 10
    sampled = agent.predict(obs, deterministic=False)
    low, high = torch.as_tensor(ACTIONS.low), torch.as_tensor(ACTIONS.high)
    assert (sampled >= low).all() and (sampled <= high).all()
    assert torch.equal(agent.predict(obs), agent.predict(obs))
    uniform = agent.explore(obs, step=0)  # before learning_starts: uniform over the box
    assert (uniform >= low).all() and (uniform <= high).all() and uniform[:, 0].std() > 0.5


def test_bad_input_is_one_line():
    with pytest.raises(UserError, match="bounded continuous action"):
        SAC(SACConfig(), OBS, gym.spaces.Discrete(3))
    with pytest.raises(UserError, match="flat observations"):
        SAC(SACConfig(), gym.spaces.Box(0, 255, (1, 8, 8), np.uint8), ACTIONS)
    with pytest.raises(UserError, match="tau"):
        SACConfig(tau=0.0).validate()
