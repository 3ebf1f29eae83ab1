"""Atari: the ``ale`` backend (C++ vector env) and the gymnasium wrapper path give identical
observations; life loss terminates training steps without ending the game or its statistics."""

import pytest
import torch

from sensorimotor.envs import make_vec
from sensorimotor.errors import UserError


def test_ale_backend_equals_the_wrapper_path_on_the_same_seed():
    kwargs = dict(repeat_action_probability=0.0, noop_max=0)  # the two paths draw randomness differently
    ale = make_vec("ALE/Pong-v5", 2, backend="ale", life_loss_terminal=False, **kwargs)
    sync = make_vec("ALE/Pong-v5", 2, backend="sync", **kwargs)
    assert torch.equal(ale.reset(seed=3), sync.reset(seed=3))
    generator = torch.Generator().manual_seed(0)
    for _ in range(200):
        action = torch.randint(0, 6, (2,), generator=generator)
        a, b = ale.step(action), sync.step(action)
        for x, y in zip(a[:4], b[:4]):
            assert torch.equal(x, y)
    assert a[0].dtype == torch.uint8 and a[0].shape == (2, 4, 84, 84)
    ale.close()
    sync.close()


def test_life_loss_terminates_steps_but_statistics_cover_whole_games():
    env = make_vec("ALE/Breakout-v5", 2, backend="ale", life_loss_terminal=True)
    env.reset(seed=0)
    generator = torch.Generator().manual_seed(0)
    life_losses = games = 0
    while games < 3:
        obs, reward, terminated, truncated, info = env.step(torch.randint(0, 4, (2,), generator=generator))
        end = info["episode_end"]
        life_losses += int((terminated & ~end).sum())
        games += int(end.sum())
        assert torch.all(info["episode_length"][~end] == 0)
        assert torch.all(info["episode_length"][end] > 50)  # five lives' worth of steps, not one
        assert torch.all(info["lives"][end] == 5)  # the next game has started
    assert life_losses >= 4 * 3 - 2
    env.close()


def test_default_ale_episodes_are_whole_games():
    """Without asking for life-loss terminals an episode ends at game over only, so PPO (or anything
    else that counts ``terminated | truncated``) counts whole games; before, it counted lives."""
    env = make_vec("ALE/Breakout-v5", 2)
    assert env.life_loss_terminal is False
    env.reset(seed=0)
    generator = torch.Generator().manual_seed(0)
    games, lowest_lives = 0, torch.full((2,), 5)
    while games < 2:
        obs, reward, terminated, truncated, info = env.step(torch.randint(0, 4, (2,), generator=generator))
        done = terminated | truncated
        assert torch.equal(info["episode_end"], done)
        lowest_lives = torch.minimum(lowest_lives, info["lives"])
        for i in torch.nonzero(done).flatten().tolist():
            assert lowest_lives[i] == 1, "the game ended before its last life"  # every life was played
            lowest_lives[i] = 5
        games += int(done.sum())
    env.close()


def test_unknown_game_names_close_matches():
    with pytest.raises(UserError, match="ALE/Pong-v5"):
        make_vec("ALE/Pongg-v5", 1)
