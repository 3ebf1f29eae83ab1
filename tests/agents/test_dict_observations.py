"""PPO and SAC over ``Dict`` observations (camera + state): the rollout storage, the multi-input
actor-critic, SAC's encoder under the critics, and their one-line refusals."""

import gymnasium as gym
import numpy as np
import pytest
import torch

from sensorimotor.agents.ppo import PPOConfig, make_agent
from sensorimotor.agents.rollout_storage import RolloutStorage, map_observation, observation_layout
from sensorimotor.agents.sac import SAC
from sensorimotor.agents.sac.config import SACConfig
from sensorimotor.agents.buffers.episode_streams import DictTransitionBatch
from sensorimotor.errors import UserError
from sensorimotor.policies.models.multi_input import MultiInputActorCritic, image_and_vector_keys

SPACE = gym.spaces.Dict({"pixels": gym.spaces.Box(0, 255, (3, 36, 36), np.uint8),
                         "state": gym.spaces.Box(-1.0, 1.0, (3,), np.float32)})
ACTIONS = gym.spaces.Box(-1.0, 1.0, (2,), np.float32)


def observations(n, seed=0):
    g = torch.Generator().manual_seed(seed)
    return {"pixels": torch.randint(0, 256, (n, 3, 36, 36), generator=g, dtype=torch.uint8),
            "state": torch.rand(n, 3, generator=g) * 2 - 1}


def test_the_rollout_storage_keeps_each_part_with_its_dtype():
    layout = observation_layout(SPACE)
    assert layout == {"pixels": (3, 36, 36), "state": (3,)} and observation_layout(ACTIONS) == (2,)
    storage = RolloutStorage(4, 2, layout, (2,), torch.float32, torch.device("cpu"),
                             {"pixels": torch.uint8, "state": torch.float32})
    obs, following = observations(2, 1), observations(2, 2)
    storage.add(3, obs, torch.ones(2, 2), torch.zeros(2), torch.zeros(2), torch.ones(2), torch.zeros(2, dtype=torch.bool),
                torch.zeros(2, dtype=torch.bool), following)
    assert storage.obs["pixels"].dtype == torch.uint8 and torch.equal(storage.obs["pixels"][3], obs["pixels"])
    assert torch.equal(storage.next_obs["state"][3], following["state"]) and storage.obs["state"][:3].abs().sum() == 0
    flat = map_observation(lambda o: o.flatten(0, 1), storage.obs)
    assert flat["pixels"].shape == (8, 3, 36, 36) and flat["state"].shape == (8, 3)


def test_the_multi_input_actor_critic_reads_every_part():
    assert image_and_vector_keys(SPACE) == (["pixels"], ["state"])
    model = MultiInputActorCritic(SPACE, ACTIONS, hidden=(32,), features=16)
    assert model.actor_head[0].in_features == 16 + 3  # image features, then the state vector
    obs = observations(4)
    _, value = model(obs)
    changed_state = dict(obs, state=obs["state"] + 0.5)
    changed_pixels = dict(obs, pixels=255 - obs["pixels"])
    assert not torch.allclose(model(changed_state)[1], value) and not torch.allclose(model(changed_pixels)[1], value)
    with pytest.raises(UserError, match="neither uint8"):
        image_and_vector_keys(gym.spaces.Dict({"depth": gym.spaces.Box(0, 1, (1, 8, 8), np.float32)}))


def test_ppo_updates_on_a_dict_rollout_and_recurrent_ppo_refuses_one():
    config = PPOConfig(num_envs=2, n_steps=8, batch_size=8, n_epochs=1, hidden=(32,), compile=False,
                       normalize_obs=False, normalize_reward=False)
    agent = make_agent(config, SPACE, ACTIONS)
    storage = agent.make_storage(observation_layout(SPACE))
    obs = observations(2)
    for t in range(8):
        actions, log_probs, values = agent.act(obs)
        following = observations(2, t + 1)
        storage.add(t, obs, actions, log_probs, values, torch.rand(2), torch.zeros(2, dtype=torch.bool),
                    torch.zeros(2, dtype=torch.bool), following)
        obs = following
    before = {k: v.clone() for k, v in agent.model.state_dict().items()}
    metrics = agent.update(storage)
    assert np.isfinite(metrics["policy"]) and np.isfinite(metrics["value"])
    moved = [k for k, v in agent.model.state_dict().items() if not torch.equal(v, before[k])]
    assert any(k.startswith("encoders.pixels") for k in moved) and any(k.startswith("actor_head") for k in moved)
    with pytest.raises(UserError, match="recurrent PPO takes one observation"):
        make_agent(PPOConfig(recurrent="lstm"), SPACE, ACTIONS)


def test_sac_trains_its_encoder_through_the_critics_and_acts_on_dicts():
    agent = SAC(SACConfig(batch_size=8, hidden=(32, 32), compile=False, buffer_size=64), SPACE, ACTIONS)
    batch = DictTransitionBatch(observations(8), torch.rand(8, 2) * 2 - 1, torch.rand(8), observations(8, 5),
                                torch.zeros(8, dtype=torch.bool))
    encoder = {k: v.clone() for k, v in agent.critic.encoder.state_dict().items()}
    actor = {k: v.clone() for k, v in agent.actor.state_dict().items()}
    metrics = agent.train_batch(batch)
    assert all(torch.isfinite(v) for v in metrics.values())
    assert any(not torch.equal(v, encoder[k]) for k, v in agent.critic.encoder.state_dict().items())
    assert any(not torch.equal(v, actor[k]) for k, v in agent.actor.state_dict().items())
    actions = agent.predict(observations(3))
    assert actions.shape == (3, 2) and torch.all(actions.abs() <= 1)
    assert agent.explore(observations(3), step=0).shape == (3, 2)


def test_sac_refuses_a_pixel_replay_bigger_than_a_quarter_of_memory():
    agent = SAC(SACConfig(hidden=(8, 8), compile=False, buffer_size=10**9), SPACE, ACTIONS)

    class Env:
        num_envs = 1

    with pytest.raises(UserError, match="sac.buffer_size 1,000,000,000 .* GiB"):
        agent.make_replay(Env())
