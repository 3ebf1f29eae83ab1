"""GAE against numbers worked out by hand (gamma 0.5, lambda 0.5 keep the arithmetic exact)."""

import torch

from sensorimotor.agents.returns import gae

G, L = 0.5, 0.5


def col(*xs, dtype=torch.float32):
    return torch.tensor(xs, dtype=dtype).unsqueeze(1)  # [T, 1]


def test_gae_three_steps_no_episode_end():
    # r = 1, 2, 3; V = 1, 1, 1; V(next) = 1, 1, 2
    # deltas: 1 + .5*1 - 1 = .5 ; 2 + .5 - 1 = 1.5 ; 3 + .5*2 - 1 = 3
    # A2 = 3 ; A1 = 1.5 + .25*3 = 2.25 ; A0 = .5 + .25*2.25 = 1.0625
    adv, ret = gae(col(1, 2, 3), col(1, 1, 1), col(1, 1, 2), col(0, 0, 0, dtype=torch.bool),
                   col(0, 0, 0, dtype=torch.bool), G, L)
    assert torch.allclose(adv.squeeze(1), torch.tensor([1.0625, 2.25, 3.0]))
    assert torch.allclose(ret.squeeze(1), torch.tensor([2.0625, 3.25, 4.0]))


def test_termination_cuts_bootstrap_and_propagation():
    # terminated at t=1: delta1 = 2 + 0 - 1 = 1 ; A1 = 1 (nothing flows back from t=2)
    # delta2 = 3 + .5*2 - 1 = 3 ; delta0 = .5 ; A0 = .5 + .25*1 = .75
    adv, _ = gae(col(1, 2, 3), col(1, 1, 1), col(1, 5, 2), col(0, 1, 0, dtype=torch.bool),
                 col(0, 0, 0, dtype=torch.bool), G, L)
    assert torch.allclose(adv.squeeze(1), torch.tensor([0.75, 1.0, 3.0]))


def test_truncation_bootstraps_from_final_obs_value_but_does_not_propagate():
    # truncated at t=1 with V(final_obs) = 5: delta1 = 2 + .5*5 - 1 = 3.5 ; A1 = 3.5
    # A0 = .5 + .25*3.5 = 1.375 ; A2 = 3
    adv, _ = gae(col(1, 2, 3), col(1, 1, 1), col(1, 5, 2), col(0, 0, 0, dtype=torch.bool),
                 col(0, 1, 0, dtype=torch.bool), G, L)
    assert torch.allclose(adv.squeeze(1), torch.tensor([1.375, 3.5, 3.0]))


def test_envs_are_independent_columns():
    rewards = torch.tensor([[1.0, 0.0], [2.0, 0.0], [3.0, 1.0]])
    values = torch.ones(3, 2)
    next_values = torch.tensor([[1.0, 1.0], [1.0, 1.0], [2.0, 1.0]])
    no = torch.zeros(3, 2, dtype=torch.bool)
    adv, _ = gae(rewards, values, next_values, no, no, G, L)
    assert torch.allclose(adv[:, 0], torch.tensor([1.0625, 2.25, 3.0]))
    # column 1: deltas -.5, -.5, .5 ; A2 = .5 ; A1 = -.5 + .125 = -.375 ; A0 = -.5 - .09375
    assert torch.allclose(adv[:, 1], torch.tensor([-0.59375, -0.375, 0.5]))
