import math

import torch

from sensorimotor.agents.ppo.loss import ppo_loss


def test_clipped_surrogate_by_hand():
    # ratios e^0.5 = 1.6487 (clipped to 1.2 for A = +1) and e^-0.5 = 0.6065 (clipped to 0.8 for A = -1:
    # min(0.6065 * -1, 0.8 * -1) = -0.8). policy = -mean(1.2, -0.8) = -0.2
    log_probs = torch.tensor([0.5, -0.5])
    zeros = torch.zeros(2)
    terms = ppo_loss(log_probs, torch.tensor([1.0, 1.0]), torch.tensor([1.0, 2.0]), zeros, zeros,
                     torch.tensor([1.0, -1.0]), torch.tensor([0.0, 0.0]), clip_range=0.2, clip_range_vf=None,
                     ent_coef=0.1, vf_coef=0.5, normalize_advantage=False)
    assert math.isclose(terms["policy"].item(), -0.2, rel_tol=1e-6)
    assert math.isclose(terms["value"].item(), 2.5, rel_tol=1e-6)  # mean(1, 4)
    assert math.isclose(terms["total"].item(), -0.2 + 0.5 * 2.5 - 0.1 * 1.0, rel_tol=1e-6)
    assert terms["clip_fraction"].item() == 1.0


def test_value_clipping_keeps_the_larger_error():
    # old V = 0, new V = 1, clip 0.2 -> clipped V = 0.2; return 2: max(1, 3.24) = 3.24
    zeros = torch.zeros(1)
    terms = ppo_loss(zeros, zeros, torch.tensor([1.0]), zeros, zeros, torch.ones(1), torch.tensor([2.0]),
                     clip_range=0.2, clip_range_vf=0.2, ent_coef=0.0, vf_coef=1.0, normalize_advantage=False)
    assert math.isclose(terms["value"].item(), 3.24, rel_tol=1e-6)
