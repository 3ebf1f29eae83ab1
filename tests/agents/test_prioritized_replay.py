"""Prioritized replay: the sum tree against hand-worked prefix sums, sampling frequencies and
importance weights against the formulas, and the weighted loss."""

import numpy as np
import pytest
import torch
from gymnasium.spaces import Box, Discrete

from sensorimotor.agents.buffers import FrameReplay
from sensorimotor.agents.buffers.sum_tree import SumTree
from sensorimotor.agents.dqn import DQN, DQNConfig


def test_sum_tree_finds_leaves_by_prefix_sum():
    tree = SumTree(5)  # rounded up to 8 leaves, the last three stay at 0
    tree.set(np.arange(5), np.array([1.0, 2.0, 3.0, 4.0, 0.0]))
    assert tree.total == 10.0
    # prefix sums 1, 3, 6, 10: mass in [0,1) -> 0, [1,3) -> 1, [3,6) -> 2, [6,10) -> 3; leaf 4 (priority 0) never
    mass = np.array([0.0, 0.99, 1.0, 2.99, 3.0, 5.99, 6.0, 9.99])
    assert tree.find(mass).tolist() == [0, 0, 1, 1, 2, 2, 3, 3]
    tree.set(np.array([1, 1]), np.array([7.0, 0.5]))  # repeated leaf: the last write wins
    assert tree.total == 8.5 and tree.get(np.array([1])).tolist() == [0.5]
    with pytest.raises(ValueError):
        tree.set(np.array([0]), np.array([np.nan]))


def test_stratified_draws_follow_the_priorities():
    tree = SumTree(3)
    tree.set(np.arange(3), np.array([1.0, 0.0, 3.0]))
    leaves = np.concatenate([tree.stratified(64, np.random.default_rng(i)) for i in range(400)])
    share = np.bincount(leaves, minlength=3) / len(leaves)
    assert share[1] == 0.0 and share[0] == pytest.approx(0.25, abs=0.01) and share[2] == pytest.approx(0.75, abs=0.01)


def _five_step_replay(alpha):
    """One env, flat 1-d observations 0..5 in slots 0..4 (slot 4 has no next observation yet)."""
    replay = FrameReplay(8, 1, (1,), stack=1, dtype=torch.float32, prioritized=True, alpha=alpha,
                         priority_eps=1e-6, seed=0)
    replay.start(torch.zeros(1, 1, 1))
    for i in range(5):
        replay.add(torch.tensor([0]), torch.tensor([0.0]), torch.tensor([False]), torch.tensor([False]),
                   torch.full((1, 1, 1), float(i + 1)))
    return replay


def test_sampling_and_importance_weights_match_the_formulas():
    replay = _five_step_replay(alpha=0.5)
    # |TD| 0, 1, 8, 0 on slots 0..3: p ** alpha = 1e-3, 1, sqrt(8), 1e-3 (eps 1e-6). Slot 4 (newest, max priority
    # 1 ** 0.5 = 1 when written) is never valid: its draws are redrawn.
    replay.update_priorities(torch.tensor([[0, 0], [0, 1], [0, 2], [0, 3]]), torch.tensor([0.0, 1.0, -8.0, 0.0]))
    assert replay.max_priority == pytest.approx(8.0)
    counts = np.zeros(5)
    for _ in range(300):
        batch = replay.sample(64, beta=1.0)
        np.add.at(counts, batch.index[:, 1].numpy(), 1)
        slots, weights = batch.index[:, 1], batch.weight
        if (slots == 1).any() and (slots == 2).any() and ((slots == 1) | (slots == 2)).all():
            # w = (n P) ** -beta over the batch max: w(slot 1) / w(slot 2) = (P2 / P1) = sqrt(8)
            assert weights[slots == 1][0] == pytest.approx(1.0)
            assert weights[slots == 2][0] == pytest.approx(1 / np.sqrt(8), rel=1e-5)
    share = counts / counts.sum()
    assert counts[4] == 0 and share[0] + share[3] < 0.003  # expected 2e-3 / 3.83 = 5e-4
    assert share[2] == pytest.approx(np.sqrt(8) / (1 + np.sqrt(8)), abs=0.01)
    beta_half = replay.sample(64, beta=0.5)
    w1, w2 = beta_half.weight[beta_half.index[:, 1] == 1][0], beta_half.weight[beta_half.index[:, 1] == 2][0]
    assert float(w2 / w1) == pytest.approx(8 ** -0.25, rel=1e-5)


def test_new_transitions_get_the_largest_priority_and_state_round_trips():
    replay = _five_step_replay(alpha=1.0)
    replay.update_priorities(torch.tensor([[0, 0]]), torch.tensor([5.0]))
    replay.add(torch.tensor([0]), torch.tensor([0.0]), torch.tensor([False]), torch.tensor([False]),
               torch.full((1, 1, 1), 6.0))
    assert replay.tree.get(np.array([5]))[0] == pytest.approx(5.0 + 1e-6)  # slot 5: the max so far
    other = FrameReplay(8, 1, (1,), stack=1, dtype=torch.float32, prioritized=True, alpha=1.0)
    other.load_state_dict(replay.state_dict())
    assert np.array_equal(other.tree.nodes, replay.tree.nodes) and other.max_priority == replay.max_priority


def test_importance_weights_scale_the_loss():
    torch.manual_seed(0)
    agent = DQN(DQNConfig(hidden=8, learning_rate=0.0), flat_space(3), Discrete(2))
    batch = _five_step_replay(alpha=1.0).sample(4)
    batch.obs, batch.next_obs = batch.obs[:, 0].expand(4, 3).contiguous(), batch.next_obs[:, 0].expand(4, 3).contiguous()
    batch.reward = torch.tensor([1.0, -2.0, 0.5, 3.0])
    batch.weight = None
    plain = agent.train_batch(batch)
    batch.weight = torch.full((4,), 0.25)
    weighted = agent.train_batch(batch)  # learning rate 0: the same network, a quarter of the loss
    assert float(weighted["loss"]) == pytest.approx(0.25 * float(plain["loss"]), rel=1e-6)
    assert torch.equal(plain["td_error"], weighted["td_error"]) and plain["td_error"].shape == (4,)


def flat_space(dim: int) -> Box:
    return Box(-1.0, 1.0, (dim,))
