"""The masked LSTM kernel: hand-worked numbers, agreement with PyTorch's LSTM maths (values and
gradients) across resets, several cores in one call, and its exponential's accuracy."""

import numpy as np
import pytest
import torch

from sensorimotor.policies.modules import masked_lstm
from sensorimotor.policies.modules.recurrent import RecurrentCore, masked_sequences


def reference(x, h, c, keep, w_ih, w_hh, b_ih, b_hh):
    """PyTorch's LSTM cell stepped in Python, the state multiplied by ``keep[t]`` before step t."""
    outs = []
    for t in range(x.shape[0]):
        m = keep[t].unsqueeze(-1)
        h, c = h * m, c * m
        i, f, g, o = (x[t] @ w_ih.t() + b_ih + h @ w_hh.t() + b_hh).chunk(4, -1)
        c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
        h = torch.sigmoid(o) * torch.tanh(c)
        outs.append(h)
    return torch.stack(outs)


def test_hand_worked_steps_with_a_reset():
    # Zero weights and biases: every gate is sigmoid(0) = 0.5 and g = tanh(0) = 0, so c' = c / 2 and
    # h' = tanh(c') / 2. From c0 = 1: c1 = 0.5, h1 = tanh(0.5) / 2 = 0.231059; c2 = 0.25,
    # h2 = tanh(0.25) / 2 = 0.122459; step 2 starts an episode: c3 = 0, h3 = 0.
    H = 4
    zeros = (torch.zeros(4 * H, 1), torch.zeros(4 * H, H), torch.zeros(4 * H), torch.zeros(4 * H))
    keep = torch.tensor([[1.0], [1.0], [0.0]])
    out = masked_lstm.masked_lstm([torch.zeros(3, 1, 1)], [torch.zeros(1, H)], [torch.ones(1, H)], keep, [zeros])[0]
    expected = torch.tensor([0.2310586, 0.1224593, 0.0]).view(3, 1, 1).expand(3, 1, H)
    torch.testing.assert_close(out, expected, atol=1e-6, rtol=0)


@pytest.mark.parametrize("L,B,in_dim,H", [(33, 1, 3, 8), (17, 4, 5, 16), (9, 3, 2, 64)])
def test_values_and_gradients_match_pytorch_lstm_maths(L, B, in_dim, H):
    torch.manual_seed(L)
    lstm = torch.nn.LSTM(in_dim, H)
    weights = [lstm.weight_ih_l0, lstm.weight_hh_l0, lstm.bias_ih_l0, lstm.bias_hh_l0]
    x = torch.randn(L, B, in_dim, requires_grad=True)
    h0 = torch.randn(B, H, requires_grad=True)
    c0 = torch.randn(B, H, requires_grad=True)
    keep = (torch.rand(L, B) > 0.2).float()
    keep[0, 0] = 0.0  # a sequence that starts fresh at step 0
    ours = masked_lstm.masked_lstm([x], [h0], [c0], keep, [tuple(weights)])[0]
    theirs = reference(x, h0, c0, keep, *weights)
    torch.testing.assert_close(ours, theirs, atol=2e-6, rtol=1e-5)
    upstream = torch.randn_like(theirs)
    wrt = [*weights, x, h0, c0]
    for a, b in zip(torch.autograd.grad((ours * upstream).sum(), wrt), torch.autograd.grad((theirs * upstream).sum(), wrt)):
        torch.testing.assert_close(a, b, atol=2e-5, rtol=1e-4)


def test_two_cores_in_one_call_equal_each_alone():
    torch.manual_seed(3)
    actor, critic = RecurrentCore("lstm", 4, 16), RecurrentCore("lstm", 4, 16)
    L, B = 20, 2
    x = torch.randn(L, B, 4, requires_grad=True)
    states = [torch.randn(B, 32), torch.randn(B, 32)]
    starts = torch.rand(L, B) < 0.15
    together = masked_sequences([actor, critic], x, states, starts)
    alone = [masked_sequences([core], x, [s], starts)[0] for core, s in zip((actor, critic), states)]
    for a, b in zip(together, alone):
        torch.testing.assert_close(a, b, atol=0, rtol=0)
    grads = torch.autograd.grad(sum(o.square().sum() for o in together), [x, *actor.parameters(), *critic.parameters()])
    expected = torch.autograd.grad(sum(o.square().sum() for o in alone), [x, *actor.parameters(), *critic.parameters()])
    for a, b in zip(grads, expected):
        torch.testing.assert_close(a, b, atol=1e-6, rtol=1e-5)


def test_sigmoid_exponential_is_accurate_over_the_whole_range():
    from sensorimotor.policies.modules._masked_lstm_kernels import _sigmoid_inplace

    z = np.linspace(-120, 120, 100_001).astype(np.float32)
    ours = z.copy()
    _sigmoid_inplace(ours, np.empty(z.shape, np.int32))
    exact = 1 / (1 + np.exp(-z.astype(np.float64)))
    assert np.all(np.isfinite(ours))
    assert np.max(np.abs(ours - exact)) < 2e-7
    normal = z > -80  # below, sigmoid(z) < 2e-35 and the clamped exponent saturates: absolute error only
    assert np.max(np.abs(ours - exact)[normal] / exact[normal]) < 1e-6


def test_served_only_where_it_applies():
    assert masked_lstm.available("cpu", torch.float32, 64)
    assert not masked_lstm.available("cpu", torch.float32, 256)  # oneDNN's batched GEMMs win there
    assert not masked_lstm.available("cpu", torch.float32, 10)  # the kernel unrolls by 4
    assert not masked_lstm.available("cpu", torch.float64, 64)
    assert not masked_lstm.available("cuda", torch.float32, 64)
