"""Recurrent cores: whole sequences cut at episode starts equal stepping with resets."""

import pytest
import torch

from sensorimotor.policies.modules import masked_lstm
from sensorimotor.policies.modules.recurrent import RecurrentCore, reset_state, split_at_starts


@pytest.fixture(params=["masked", "segments"])
def path(request, monkeypatch):
    """Each sequence test runs twice: LSTMs through the masked kernel (where numba is installed) and
    through the segments cut at episode starts."""
    if request.param == "masked" and not masked_lstm.HAVE_NUMBA:
        pytest.skip("numba is not installed")
    if request.param == "segments":
        monkeypatch.setattr(masked_lstm, "HAVE_NUMBA", False)
    return request.param


def step_through(core, x, state, starts):
    outs = []
    for t in range(x.shape[0]):
        state = reset_state(state, starts[t])
        out, state = core.step(x[t], state)
        outs.append(out)
    return torch.stack(outs)


@pytest.mark.parametrize("kind", ["lstm", "gru"])
@pytest.mark.parametrize("layers", [1, 2])
def test_sequence_equals_stepping_with_resets(kind, layers, path):
    torch.manual_seed(0)
    core = RecurrentCore(kind, 3, 8, layers)
    L, B = 9, 5
    x = torch.randn(L, B, 3)
    state = torch.randn(B, core.state_size)
    starts = torch.rand(L, B) < 0.3
    starts[0, 0], starts[0, 1] = True, False  # a column that starts fresh and one that carries state
    with torch.no_grad():
        torch.testing.assert_close(core.sequence(x, state, starts), step_through(core, x, state, starts),
                                   atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("kind", ["lstm", "gru"])
def test_state_resets_exactly_at_episode_starts(kind, path):
    torch.manual_seed(1)
    core = RecurrentCore(kind, 2, 8)
    assert core.uses_masks("cpu") == (kind == "lstm" and path == "masked")
    L, B = 8, 1
    x = torch.randn(L, B, 2)
    starts = torch.zeros(L, B, dtype=torch.bool)
    starts[5, 0] = True
    state = torch.randn(B, core.state_size)
    changed = x.clone()
    changed[2] += 1.0  # a different input before the start
    with torch.no_grad():
        a, b = core.sequence(x, state, starts), core.sequence(changed, state, starts)
    assert not torch.allclose(a[3:5], b[3:5])  # before the start the change is remembered
    torch.testing.assert_close(a[5:], b[5:])  # from the start on it is forgotten
    # and the initial state is ignored when step 0 starts an episode
    starts[0, 0] = True
    with torch.no_grad():
        torch.testing.assert_close(core.sequence(x, state, starts), core.sequence(x, torch.zeros_like(state), starts))


def test_split_at_starts_hand_built():
    # Column 0 has an episode start at t=2, column 1 none: segments (col 0, t 0-1), (col 0, t 2-3), (col 1, t 0-3).
    starts = torch.tensor([[False, False], [False, False], [True, False], [False, False]])
    plan = split_at_starts(starts)
    assert (plan.segments, plan.max_len) == (3, 4)
    # steps column by column: (col 0, t 0..3) then (col 1, t 0..3)
    assert plan.position.tolist() == [0, 1, 0, 1, 0, 1, 2, 3]
    assert plan.segment.tolist() == [0, 0, 1, 1, 2, 2, 2, 2]
    assert plan.column.tolist() == [0, 0, 1]
    assert plan.first_step.tolist() == [True, False, True]
    assert plan.starts_episode.tolist() == [False, True, False]


def test_state_layout_round_trip():
    core = RecurrentCore("lstm", 2, 4, layers=2)
    assert core.state_size == 2 * 2 * 4
    state = torch.arange(3 * 16, dtype=torch.float32).view(3, 16)
    h, c = core._unflatten(state)
    assert h.shape == c.shape == (2, 3, 4)
    assert h[1, 2].tolist() == state[2, 4:8].tolist() and c[0, 0].tolist() == state[0, 8:12].tolist()


@pytest.mark.parametrize("shared", [False, True])
def test_a_shared_core_is_trained_by_the_value_loss(shared):
    """With one core for both heads the state is that core's and the value loss reaches the memory the
    policy reads; with a core each, the critic's loss leaves the actor's core untouched."""
    import gymnasium as gym

    from sensorimotor.policies.models import RecurrentActorCritic

    torch.manual_seed(2)
    model = RecurrentActorCritic((3,), gym.spaces.Discrete(2), "lstm", core_size=4, hidden=(), shared_core=shared)
    assert model.state_size == (1 if shared else 2) * 2 * 4
    L, B = 5, 2
    obs, starts = torch.randn(L, B, 3), torch.zeros(L, B, dtype=torch.bool)
    logits, values = model(obs, torch.zeros(B, model.state_size), starts)
    values.square().sum().backward()
    actor_core_grad = sum(p.grad.abs().sum() for p in model.actor_core.parameters() if p.grad is not None)
    assert (actor_core_grad > 0) == shared
    # Stepping gives the same outputs as the sequence, with the state carried in one tensor.
    state, stepped = torch.zeros(B, model.state_size), []
    with torch.no_grad():
        for t in range(L):
            params, value, state = model.step(obs[t], state)
            stepped.append(value)
    torch.testing.assert_close(torch.stack(stepped), values.detach(), atol=1e-5, rtol=1e-5)


def test_orthogonal_init_keeps_conv_features_large_enough_for_a_core():
    """PyTorch's default init leaves the Nature-CNN features of [0, 1] frames ~0.01 (a core after
    them then hardly sees its input); orthogonal sqrt(2) weights keep them an order larger."""
    from sensorimotor.policies.modules.cnn import ConvEncoder

    torch.manual_seed(0)
    frames = torch.randint(0, 256, (16, 1, 60, 80), dtype=torch.uint8)
    default = ConvEncoder((1, 60, 80))(frames).detach()
    ortho = ConvEncoder((1, 60, 80), ortho_init=True)(frames).detach()
    assert default.std() < 0.03 and ortho.std() > 5 * default.std()
    assert all((m.bias == 0).all() for m in ConvEncoder((1, 60, 80), ortho_init=True).modules() if hasattr(m, "bias")
               and m.bias is not None)
