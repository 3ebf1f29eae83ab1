"""DQN maths against numbers worked out by hand: TD targets (plain and double), the epsilon schedule,
target-network updates, and one learning sanity check on a fixed batch."""

import pytest
import torch
from gymnasium.spaces import Box, Discrete

from sensorimotor.agents.buffers.replay import ReplayBatch
from sensorimotor.agents.dqn import DQN, DQN_ATARI, DQN_ATARI_GPU, DQNConfig, td_targets
from sensorimotor.errors import UserError
from sensorimotor.policies.models.q_network import QNetwork
from tests.helpers import skip_without_native_bf16


def test_td_targets_plain_and_double_by_hand():
    reward = torch.tensor([1.0, 0.5, 2.0])
    discount = torch.tensor([0.9, 0.81, 0.9])  # the second transition is a 2-step one
    terminated = torch.tensor([False, False, True])
    next_q_target = torch.tensor([[1.0, 5.0], [3.0, 2.0], [7.0, 7.0]])
    next_q_online = torch.tensor([[4.0, 0.0], [0.0, 1.0], [0.0, 1.0]])
    plain = td_targets(reward, discount, terminated, next_q_target)
    torch.testing.assert_close(plain, torch.tensor([1 + 0.9 * 5, 0.5 + 0.81 * 3, 2.0]))
    # Double DQN: the online net picks action 0 for row 0 (target value 1.0), action 1 for row 1 (2.0).
    double = td_targets(reward, discount, terminated, next_q_target, next_q_online)
    torch.testing.assert_close(double, torch.tensor([1 + 0.9 * 1, 0.5 + 0.81 * 2, 2.0]))


def test_epsilon_schedule_by_hand():
    c = DQNConfig(total_steps=1000, epsilon_start=1.0, epsilon_end=0.1, epsilon_fraction=0.2)
    assert c.epsilon(0) == 1.0
    assert c.epsilon(100) == pytest.approx(0.55)  # halfway through the 200-step decay
    assert c.epsilon(200) == pytest.approx(0.1) and c.epsilon(900) == pytest.approx(0.1)


@pytest.mark.parametrize("kwargs, match", [
    ({"n_step": 0}, "n_step"), ({"tau": 0.0}, "tau"), ({"priority_alpha": 1.5}, "priority_alpha"), ({"priority_beta_start": -0.1}, "priority_beta_start"),
    ({"epsilon_end": 0.5, "epsilon_start": 0.1}, "epsilon_end"), ({"learning_starts": 4}, "learning_starts"),
])
def test_bad_config_values_are_refused(kwargs, match):
    with pytest.raises(UserError, match=match):
        DQNConfig(**kwargs).validate()


def test_target_update_hard_and_polyak():
    agent = DQN(DQNConfig(tau=1.0, hidden=8), flat_space(3), Discrete(2))
    with torch.no_grad():
        for p in agent.q.parameters():
            p.fill_(1.0)
        for p in agent.target.parameters():
            p.fill_(0.0)
    polyak = DQN(DQNConfig(tau=0.25, hidden=8), flat_space(3), Discrete(2))
    polyak.q.load_state_dict(agent.q.state_dict())
    polyak.target.load_state_dict(agent.target.state_dict())
    agent.update_target()
    polyak.update_target()
    assert all(torch.all(p == 1.0) for p in agent.target.parameters())
    assert all(torch.allclose(p, torch.full_like(p, 0.25)) for p in polyak.target.parameters())


def fit_terminal_batch(agent: DQN, b: int = 16, updates: int = 200):
    """``updates`` steps on one batch of ``b`` terminal transitions (the target is the reward itself, so
    the loss can go to ~0). Returns the batch and the first and last losses."""
    obs = torch.randn(b, 4)
    batch = ReplayBatch(obs, torch.randint(0, 3, (b,)), torch.linspace(-1, 1, b), obs.clone(),
                        torch.ones(b, dtype=torch.bool), torch.zeros(b, dtype=torch.bool), torch.full((b,), 0.99),
                        torch.zeros(b, 2))
    first = float(agent.train_batch(batch)["loss"])
    for _ in range(updates):
        last = float(agent.train_batch(batch)["loss"])
    return batch, first, last


def test_updates_fit_q_values_to_fixed_targets():
    torch.manual_seed(0)
    agent = DQN(DQNConfig(hidden=32, learning_rate=1e-2, adam_eps=1e-8, double=True, dueling=True), flat_space(4), Discrete(3))
    batch, first, last = fit_terminal_batch(agent)
    obs = batch.obs
    assert last < 0.01 * first
    q = agent.q(obs).gather(1, batch.action[:, None]).squeeze(1)
    torch.testing.assert_close(q, batch.reward, atol=0.05, rtol=0)


def test_gpu_preset_replays_as_much_per_env_step_as_the_cpu_one():
    # Fewer, larger updates on the GPU, but the same 8 replayed samples per env step.
    assert DQN_ATARI_GPU.batch_size / DQN_ATARI_GPU.train_every == DQN_ATARI.batch_size / DQN_ATARI.train_every == 8
    assert DQN_ATARI_GPU.device == "cuda" and DQN_ATARI_GPU.num_envs > DQN_ATARI.num_envs


def test_bf16_trunk_keeps_q_values_float32_and_close_to_full_precision():
    torch.manual_seed(0)
    q = QNetwork((4, 84, 84), 6)
    obs = torch.randint(0, 256, (8, 4, 84, 84), dtype=torch.uint8)
    with torch.no_grad():
        full, mixed = q(obs), q(obs, bf16_trunk=True)
    assert mixed.dtype == torch.float32
    assert not torch.equal(full, mixed)  # the encoder did run in bfloat16 (8 bits of mantissa)
    torch.testing.assert_close(mixed, full, rtol=0, atol=0.03 * float(full.abs().max()))


def test_bf16_trunk_updates_fit_q_values_to_fixed_targets():
    skip_without_native_bf16("--dqn.bf16-trunk")  # refused where it would be slower than float32
    torch.manual_seed(0)
    agent = DQN(DQNConfig(hidden=32, learning_rate=1e-2, adam_eps=1e-8, bf16_trunk=True), flat_space(4), Discrete(3))
    _, first, last = fit_terminal_batch(agent)
    assert all(p.dtype == torch.float32 for p in agent.q.parameters())  # weights and Adam stay float32
    assert last < 0.02 * first


def test_channels_last_is_the_same_network_in_another_layout():
    torch.manual_seed(0)
    plain, nhwc = QNetwork((4, 84, 84), 6), QNetwork((4, 84, 84), 6, channels_last=True)
    nhwc.load_state_dict(plain.state_dict())
    conv = nhwc.encoder.convs[0].weight
    assert conv.is_contiguous(memory_format=torch.channels_last) and not conv.is_contiguous()
    obs = torch.randint(0, 256, (3, 4, 84, 84), dtype=torch.uint8)
    with torch.no_grad():
        torch.testing.assert_close(nhwc(obs), plain(obs), atol=1e-5, rtol=1e-5)
        nhwc.use_channels_last(False)  # what export does
        assert nhwc.encoder.convs[0].weight.is_contiguous()
        torch.testing.assert_close(nhwc(obs), plain(obs), atol=1e-5, rtol=1e-5)


def flat_space(dim: int) -> Box:
    return Box(-1.0, 1.0, (dim,))
