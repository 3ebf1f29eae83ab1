"""QT-Opt's maths: the CEM argmax, the clipped double-Q Bellman target, the camera replay."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
import torch
from torch import nn

from sensorimotor.agents.buffers.episode_streams import EpisodeStreams, MixedReplay
from sensorimotor.agents.qtopt import QTOpt, QTOptConfig
from sensorimotor.agents.qtopt.cem import CEMSettings, cem_argmax
from sensorimotor.errors import UserError

PARTS = {"pixels": ((3, 24, 24), torch.uint8), "state": ((3,), torch.float32)}


def test_cem_by_hand_on_a_one_dimensional_quadratic():
    # score(a) = -(a - 0.3)^2; 5 samples, 2 elites, 2 iterations, draws given.
    # Iteration 0: -1, -0.5, 0, 0.5, 1 -> elites 0.5 (-0.04) and 0 (-0.09): mean 0.25, std 0.25.
    # Iteration 1: 0.25 + 0.25 * (0, 1, -1, 0.2, -0.2) = 0.25, 0.5, 0, 0.3, 0.2 -> best 0.3, score 0.
    uniform = torch.tensor([-1.0, -0.5, 0.0, 0.5, 1.0]).view(1, 5, 1)
    normal = torch.tensor([0.0, 1.0, -1.0, 0.2, -0.2]).view(1, 1, 5, 1)
    action, score = cem_argmax(lambda a: -((a - 0.3) ** 2).sum(-1), 1, 1, CEMSettings(5, 2, 2, min_std=0.0),
                               noise=(uniform, normal))
    assert action.item() == pytest.approx(0.3, abs=1e-6)
    assert score.item() == pytest.approx(0.0, abs=1e-6)


def test_cem_finds_each_states_maximum_in_one_batched_call_per_iteration():
    generator = torch.Generator().manual_seed(0)
    centres = torch.rand(200, 2, generator=generator) * 1.6 - 0.8
    calls = []

    def score(actions):  # [B, S, A] -> [B, S]
        calls.append(actions.shape)
        return -((actions - centres[:, None]) ** 2).sum(-1)

    action, value = cem_argmax(score, 200, 2, CEMSettings(64, 6, 2), generator=generator)
    assert calls == [(200, 64, 2)] * 2
    error = (action - centres).norm(dim=1)
    assert error.median() < 0.06 and error.max() < 0.25
    assert torch.allclose(value, score(action[:, None])[:, 0])
    # More iterations narrow in: a stochastic search, so the median is tight and the worst state looser.
    more = (cem_argmax(score, 200, 2, CEMSettings(64, 6, 5), generator=generator)[0] - centres).norm(dim=1)
    assert more.median() < 0.01 and more.median() < error.median() / 3 and more.max() < 0.15


def test_cem_snaps_binary_components_to_the_better_sign():
    # Component 1 is binary: the score prefers +1 there for some states and -1 for others.
    sign = torch.tensor([1.0, -1.0, 1.0])

    def score(actions):
        return -(actions[..., 0] - 0.2) ** 2 + sign[:, None] * actions[..., 1]

    action, _ = cem_argmax(score, 3, 2, binary_mask=torch.tensor([False, True]))
    assert action[:, 1].tolist() == sign.tolist()
    assert torch.allclose(action[:, 0], torch.full((3,), 0.2), atol=0.1)


def test_a_population_smaller_than_the_elites_is_one_line():
    with pytest.raises(UserError, match="cannot be smaller than the elites"):
        QTOptConfig(cem_samples=4, cem_elites=6).validate()


class QuadraticQ(nn.Module):
    """A Q-function with a known maximum: logit(s, a) = peak - 4 |a - centre(s)|^2, centre(s) = state[:2]."""

    def __init__(self, peak: float):
        super().__init__()
        self.peak = peak

    def encode(self, pixels, state):
        return pixels, state.float()

    def score(self, features, actions):
        centre = features[1][:, None, :2]
        return self.peak - 4 * ((actions - centre) ** 2).sum(-1)

    def forward(self, pixels, state, action):
        return self.score(self.encode(pixels, state), action[:, None])[:, 0]


def _agent(**overrides) -> QTOpt:
    space = gym.spaces.Dict({"pixels": gym.spaces.Box(0, 255, (3, 24, 24), np.uint8),
                             "state": gym.spaces.Box(-1, 1, (3,), np.float32)})
    return QTOpt(QTOptConfig(hidden=16, **overrides), space, gym.spaces.Box(-1, 1, (2,), np.float32))


def _batch(reward, terminated, centres):
    from sensorimotor.agents.buffers.episode_streams import DictTransitionBatch

    b = len(reward)
    obs = {"pixels": torch.zeros(b, 3, 24, 24, dtype=torch.uint8),
           "state": torch.cat([torch.as_tensor(centres, dtype=torch.float32), torch.zeros(b, 1)], 1)}
    return DictTransitionBatch(obs, torch.zeros(b, 2), torch.tensor(reward), obs, torch.tensor(terminated))


def test_bellman_target_with_cem_equals_the_exact_value_of_a_tiny_mdp():
    # s' has one best action (its centre): V(s') = sigmoid(peak). The second target network is more
    # pessimistic (peak 0.5 against 1.0), so the clipped double-Q value is sigmoid(0.5) at the CEM's action.
    torch.manual_seed(0)
    agent = _agent(gamma=0.9, cem_iterations=4)  # QT-Opt's 2 iterations land within ~3e-3 of it here
    agent.target1, agent.target2 = QuadraticQ(1.0), QuadraticQ(0.5)
    centres = [[0.3, -0.4], [-0.7, 0.6], [0.0, 0.0]]
    y, value = agent.bellman_targets(_batch([0.0, 0.0, 1.0], [False, False, True], centres))
    exact = torch.sigmoid(torch.tensor(0.5))
    assert torch.allclose(value, exact.expand(3), atol=1e-3)
    # Non-terminal: gamma V(s'); terminal: the reward alone.
    assert torch.allclose(y, torch.tensor([0.9 * exact, 0.9 * exact, 1.0]), atol=1e-3)

    # Swapped: the first target is the pessimist; min picks it again.
    agent.target1, agent.target2 = QuadraticQ(-1.0), QuadraticQ(2.0)
    y, _ = agent.bellman_targets(_batch([0.0], [False], [[0.5, 0.5]]))
    assert y.item() == pytest.approx(0.9 * torch.sigmoid(torch.tensor(-1.0)).item(), abs=1e-3)


def test_step_penalty_lowers_the_target_and_the_target_stays_a_probability():
    agent = _agent(gamma=0.9, step_penalty=0.05)
    agent.target1 = agent.target2 = QuadraticQ(0.0)
    y, _ = agent.bellman_targets(_batch([0.0, 1.0, 0.0], [False, True, True], [[0, 0]] * 3))
    assert torch.allclose(y, torch.tensor([0.9 * 0.5 - 0.05, 0.95, 0.0]), atol=2e-3)  # -0.05 clamps to 0


def test_one_update_moves_the_logit_towards_the_target():
    agent = _agent(learning_rate=1e-2, target_lag=1)
    batch = _batch([1.0] * 8, [True] * 8, [[0.1, 0.2]] * 8)
    before = torch.sigmoid(agent.q(batch.obs["pixels"], batch.obs["state"], batch.action)).mean()
    for _ in range(20):
        metrics = agent.train_batch(batch)
    after = torch.sigmoid(agent.q(batch.obs["pixels"], batch.obs["state"], batch.action)).mean()
    assert after > before + 0.2 and metrics["target"].item() == 1.0
    # target_lag 1: the second target network is a copy of the first after every update.
    for a, b in zip(agent.target1.parameters(), agent.target2.parameters()):
        assert torch.equal(a, b)


def _obs(values, n=None):
    values = torch.as_tensor(values, dtype=torch.float32)
    return {"pixels": values.view(-1, 1, 1, 1).expand(-1, 3, 24, 24).to(torch.uint8),
            "state": values.view(-1, 1).expand(-1, 3).clone()}


def test_streams_pair_each_observation_with_the_one_that_followed_it():
    replay = MixedReplay(capacity=40, num_envs=2, obs_parts=PARTS, action_dim=1)
    replay.start(_obs([1, 101]))
    # Env 0 runs 1 -> 2 -> 3 (ends; final obs 3, reset to 10) -> 11; env 1 never ends.
    steps = [([2, 102], [False, False]), ([3, 103], [True, False]), ([11, 104], [False, False])]
    for t, (nxt, done) in enumerate(steps):
        next_obs = _obs([10 if d else v for v, d in zip(nxt, done)])
        final = _obs(nxt)
        replay.add(torch.full((2, 1), float(t)), torch.tensor([float(d) for d in done]), torch.tensor(done),
                   torch.tensor([False, False]), next_obs, final)
    batch = replay.sample(4000, torch.Generator().manual_seed(0))
    pairs = {(int(o), int(n), bool(term)) for o, n, term in
             zip(batch.obs["state"][:, 0], batch.next_obs["state"][:, 0], batch.terminated)}
    assert pairs == {(1, 2, False), (2, 3, True), (10, 11, False), (101, 102, False), (102, 103, False),
                     (103, 104, False)}
    assert len(replay) == 6


def test_streams_never_pair_across_an_overwrite():
    streams = EpisodeStreams(capacity=5, streams=1, obs_parts=PARTS, action_dim=1)
    for episode in range(7):  # 2-step episodes of 3 slots each: the 5-slot ring wraps again and again
        base = 10 * episode
        streams.add_episode(_obs([base, base + 1]), torch.zeros(2, 1), torch.zeros(2), torch.tensor([False, True]),
                            {k: v[0] for k, v in _obs([base + 2]).items()})
    batch = streams.sample(2000, torch.Generator().manual_seed(1))
    delta = batch.next_obs["state"][:, 0] - batch.obs["state"][:, 0]
    assert torch.all(delta == 1)


def test_mixed_batches_take_the_online_fraction_and_only_the_online_part_is_saved():
    replay = MixedReplay(capacity=64, num_envs=1, obs_parts=PARTS, action_dim=1, online_fraction=0.25)
    offline = [{"obs": {k: v.numpy() for k, v in _obs([200, 201]).items()}, "action": np.zeros((2, 1), np.float32),
                "reward": np.zeros(2, np.float32), "terminated": np.array([False, True]),
                "next_obs": {k: v[0].numpy() for k, v in _obs([202]).items()}}]
    replay.load_offline(offline, max_slots=3)
    assert len(replay.sample(8).obs["state"]) == 8  # offline only so far
    replay.start(_obs([1]))
    replay.add(torch.zeros(1, 1), torch.zeros(1), torch.tensor([False]), torch.tensor([False]), _obs([2]), _obs([2]))
    batch = replay.sample(8)
    online = (batch.obs["state"][:, 0] < 100).sum().item()
    assert online == 2
    saved = replay.state_dict()
    assert saved["obs.pixels"].shape[1] == 2 and len(replay.online) == 1  # the two slots written, not 64
    fresh = MixedReplay(capacity=64, num_envs=1, obs_parts=PARTS, action_dim=1)
    fresh.load_state_dict(saved)
    assert len(fresh) == 1 and torch.equal(fresh.online.obs["state"][0, :2], replay.online.obs["state"][0, :2])
    with pytest.raises(UserError, match="same buffer size"):
        MixedReplay(capacity=64, num_envs=2, obs_parts=PARTS, action_dim=1).load_state_dict(saved)


def test_a_wrapped_ring_saves_whole_and_resumes_only_into_the_same_size():
    replay = MixedReplay(capacity=4, num_envs=1, obs_parts=PARTS, action_dim=1)
    replay.start(_obs([0]))
    for t in range(1, 7):  # six steps into four slots: the ring has wrapped
        replay.add(torch.zeros(1, 1), torch.zeros(1), torch.tensor([False]), torch.tensor([False]), _obs([t]), _obs([t]))
    saved = replay.state_dict()
    assert saved["obs.state"].shape[1] == 4 and int(saved["slots"]) == 4
    fresh = MixedReplay(capacity=4, num_envs=1, obs_parts=PARTS, action_dim=1)
    fresh.load_state_dict(saved)
    assert len(fresh) == len(replay) == 3 and torch.equal(fresh.online.pos, replay.online.pos)
    with pytest.raises(UserError, match="same buffer size"):
        MixedReplay(capacity=8, num_envs=1, obs_parts=PARTS, action_dim=1).load_state_dict(saved)


def test_random_shift_moves_each_image_by_its_own_offset_with_replicated_borders():
    from sensorimotor.agents.qtopt.agent import random_shift

    image = torch.arange(25, dtype=torch.uint8).view(1, 1, 5, 5).expand(64, 2, 5, 5)
    shifted = random_shift(image, 1, torch.Generator().manual_seed(0))
    assert shifted.shape == image.shape and shifted.dtype == torch.uint8
    seen = set()
    for out in shifted:
        # Each output is the 7x7 replicate-padded image cropped at one offset (dy, dx) in 0..2.
        padded = torch.nn.functional.pad(image[:1].float(), (1, 1, 1, 1), mode="replicate")[0, 0]
        match = [(dy, dx) for dy in range(3) for dx in range(3)
                 if torch.equal(padded[dy:dy + 5, dx:dx + 5].to(torch.uint8), out[0])]
        assert match and torch.equal(out[0], out[1])
        seen.add(match[0])
    assert len(seen) == 9  # every offset drawn


def _write_dataset(folder, pixels_shape=(3, 24, 24), action_dim=2, episodes=2, cut_last=False):
    from sensorimotor.utils import datasets

    datasets.write_manifest(str(folder), {"env": "test", "policy": "random", "seed": 0})
    writer = datasets.EpisodeWriter(str(folder), 0, {"env": "test", "policy": "random"})
    for e in range(episodes):
        steps = 3
        for t in range(steps):
            last = t == steps - 1
            if cut_last and e == episodes - 1 and last:
                break  # a killed collection: the last episode never ends
            obs = {"pixels": np.full(pixels_shape, e, np.uint8), "state": np.zeros(3, np.float32)}
            writer.step(e, t, obs, np.zeros(action_dim, np.float32), float(last), last, False, {},
                        next_observation=obs if last else None)
    writer.close()


def test_datasets_load_into_the_offline_part_and_bad_folders_are_one_line(tmp_path):
    from types import SimpleNamespace

    env = SimpleNamespace(num_envs=1)
    good = tmp_path / "good"
    _write_dataset(good, cut_last=True)  # the second episode was cut by a kill: never loaded
    replay = _agent(dataset=(str(good),), buffer_size=64).make_replay(env)
    assert len(replay.offline) == 3 and len(replay.online) == 0
    batch = replay.sample(16)
    assert torch.all(batch.obs["pixels"] == 0)  # only episode 0's frames
    assert batch.terminated.sum() == (batch.reward == 1).sum()

    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(UserError, match="not an episode dataset"):
        _agent(dataset=(str(empty),)).make_replay(env)
    (empty / "dataset.json").write_text('{"format": 1, "env": "x"}')
    with pytest.raises(UserError, match="is empty"):
        _agent(dataset=(str(empty),)).make_replay(env)
    foreign = tmp_path / "foreign"
    _write_dataset(foreign, pixels_shape=(3, 32, 32))
    with pytest.raises(UserError, match="collected on another task"):
        _agent(dataset=(str(foreign),)).make_replay(env)
    only_cut = tmp_path / "cut"
    _write_dataset(only_cut, episodes=1, cut_last=True)
    with pytest.raises(UserError, match="holds no whole episode"):
        _agent(dataset=(str(only_cut),)).make_replay(env)
    with pytest.raises(UserError, match="does not exist"):
        _agent(dataset=(str(tmp_path / "missing"),)).make_replay(env)
