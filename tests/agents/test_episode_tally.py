"""Evaluation takes a fixed share of episodes from each env, not the first ones to finish."""

import torch

from sensorimotor.agents.episode_tally import EpisodeTally


def test_short_episodes_of_one_env_do_not_crowd_out_a_long_one():
    tally = EpisodeTally(num_envs=2, episodes=3)  # env 0 gives 1 episode, env 1 gives 2
    assert tally.targets.tolist() == [1, 2]
    terminated = torch.tensor([True, True])
    # Env 0 dies quickly three times before env 1 ends its first (long) episode and then a second one.
    for step, ended in enumerate([[True, False], [True, False], [True, False], [False, True], [True, True]]):
        assert not tally.complete
        tally.add(torch.tensor(ended), torch.tensor([10.0 + step, 500.0 + step]), torch.tensor([5, 100]), terminated)
    assert tally.complete
    # First-to-finish would have taken 10, 11, 12 (all env 0's deaths).
    assert tally.returns == [10.0, 503.0, 504.0] and tally.lengths == [5, 100, 100]
    assert tally.terminated == [True, True, True]


def test_more_envs_than_episodes():
    tally = EpisodeTally(num_envs=8, episodes=3)
    assert tally.targets.tolist() == [0, 0, 0, 0, 0, 1, 1, 1]
    tally.add(torch.ones(8, dtype=torch.bool), torch.arange(8.0), torch.ones(8), torch.zeros(8, dtype=torch.bool))
    assert tally.complete and tally.returns == [5.0, 6.0, 7.0] and tally.terminated == [False] * 3
