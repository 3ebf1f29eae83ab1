import pytest

from sensorimotor.envs import list_envs, make_vec
from sensorimotor.errors import UserError


def test_unknown_id_names_close_matches():
    with pytest.raises(UserError, match="HalfCheetah-v5"):
        make_vec("HalfCheeta-v5", 2)


def test_bad_num_envs_and_backend():
    with pytest.raises(UserError, match="positive"):
        make_vec("CartPole-v1", 0)
    with pytest.raises(UserError, match="no backend 'mujoco'"):
        make_vec("CartPole-v1", 2, backend="mujoco")


def test_tags():
    full = {"HalfCheetah-v5", "Hopper-v5", "Walker2d-v5", "Ant-v5", "Humanoid-v5"}
    assert set(list_envs(tag="locomotion")) - set(list_envs(tag="pomdp")) == full
    assert {i.replace("-v5", "NoVel-v5") for i in full} <= set(list_envs(tag="pomdp"))
    assert "CartPole-v1" in list_envs(tag="classic")
