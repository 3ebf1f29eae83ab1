"""The Python API as SB3 users know it: learn on an env id or on a VecEnv the caller built, predict on
raw observations (one or a batch), recurrent memory passed explicitly, bad settings in one line."""

import numpy as np
import pytest
import torch

from sensorimotor.app import api
from sensorimotor.envs import make_vec
from sensorimotor.errors import UserError


def test_learn_on_a_vecenv_the_caller_built_and_predict(tmp_path):
    env = make_vec("Pendulum-v1", 2)
    trainer = api.SAC(env, preset="smoke", run_dir=str(tmp_path / "sac")).learn(400)
    obs = env.reset(seed=0)
    action, state = trainer.predict(obs.numpy())
    assert action.shape == (2, 1) and state is None and np.all(np.abs(action) <= 2.0)
    single, _ = trainer.predict(obs[0].numpy())  # one observation, no batch axis
    np.testing.assert_allclose(single, action[0], atol=1e-6)
    env.close()  # the caller's env is the caller's to close: learn() left it open


def test_recurrent_memory_is_explicit_and_reset_by_episode_start(tmp_path):
    trainer = api.PPO("CartPoleNoVel-v1", preset="lstm-classic", total_steps=1, num_envs=2, n_steps=32,
                      batch_size=64, compile=False, run_dir=str(tmp_path / "lstm")).learn(128)
    obs = torch.zeros(2, 2).numpy()
    first, state = trainer.predict(obs)
    assert state is not None and state[0].shape[0] == 2
    # Feeding the returned memory back changes what the core sees; starting both envs over restores it.
    _, state2 = trainer.predict(obs, state)
    assert not torch.equal(state2[0], state[0])
    _, fresh = trainer.predict(obs, state2, episode_start=np.array([True, True]))
    torch.testing.assert_close(fresh[0], state[0])


def test_bad_settings_are_one_line():
    with pytest.raises(UserError, match="unknown ppo setting"):
        api.PPO("CartPole-v1", learnin_rate=1e-3)
    with pytest.raises(UserError, match="call learn"):
        api.PPO("CartPole-v1").predict(np.zeros(4))


def test_a_second_learn_continues_the_run(tmp_path):
    from sensorimotor.utils.logging import read_metrics

    trainer = api.DQN("CartPole-v1", preset="smoke", run_dir=str(tmp_path / "dqn")).learn(600)
    trainer.learn(400)
    steps = [row["step"] for row in read_metrics(trainer.run_dir)]
    assert steps[-1] == 1000 and steps == sorted(steps)
    action, _ = trainer.predict(np.zeros(4, np.float32))
    assert action.shape == ()
