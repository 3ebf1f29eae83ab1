"""A fused LSTM for the CPU that resets its state with a mask: forward and backward one call each.

Why it exists: recurrent PPO's minibatches on small cores (hidden 64, a few sequences of 128 steps)
are latency-bound. oneDNN's fused LSTM spends ~10 us per time step on set-up and batch-1 GEMMs, and
cutting sequences at episode starts (``split_at_starts``) adds gathers and host syncs. Here a compiled
loop (numba) runs the whole ``[L, B]`` sequence, multiplying the recurrent weights in cache, zeroing
the state where an episode starts (the mask) and keeping what the backward pass needs; the input
projection and the recurrent weights' gradient are one GEMM each in torch. Several cores that read
the same steps (actor and critic) go in one call, and every (core, sequence) pair runs on its own
thread. ~2.3 us per step forward and ~1.4 us backward at hidden 64 on one core (AVX2).

Maths as PyTorch's ``nn.LSTM`` (gate order i, f, g, o; ``c' = f c + i g``, ``h' = o tanh(c')``).
Sigmoid and tanh use an exponential written out (range reduction + degree-6 Taylor polynomial,
relative error ~1e-7) so the compiler can vectorize it; outputs match ``nn.LSTM`` to ~1e-6.
"""

from __future__ import annotations

import functools
import importlib.util

import torch

# Hidden sizes up to this run through the kernel on the CPU; larger ones through oneDNN, whose
# batched GEMMs win once the per-step matrix product dominates.
MAX_HIDDEN = 128

# Looked up without importing numba (a second of start-up), so that `available` stays cheap.
HAVE_NUMBA = importlib.util.find_spec("numba") is not None


def available(device: torch.device | str, dtype: torch.dtype, hidden: int) -> bool:
    """Whether :func:`masked_lstm` serves inputs of this device and dtype: CPU float32, a hidden size
    that is a multiple of 4 up to :data:`MAX_HIDDEN`, numba installed."""
    return (torch.device(device).type == "cpu" and dtype == torch.float32 and hidden <= MAX_HIDDEN
            and hidden % 4 == 0 and HAVE_NUMBA)


def masked_lstm(inputs: list[torch.Tensor], h0: list[torch.Tensor], c0: list[torch.Tensor], keep: torch.Tensor,
                weights: list[tuple[torch.Tensor, ...]]) -> list[torch.Tensor]:
    """One LSTM layer for each of ``C`` cores over the same ``L`` steps of ``B`` sequences.

    Args:
        inputs: per core ``x [L, B, in_dim]`` (the same tensor for all cores is projected in one GEMM).
        h0, c0: per core ``[B, H]``, the state before step 0.
        keep: ``[L, B]`` float, 0 where step t starts an episode (the state entering it is zeroed).
        weights: per core ``(w_ih [4H, in_dim], w_hh [4H, H], b_ih [4H], b_hh [4H])``.

    Returns:
        per core ``h [L, B, H]``. Differentiable in the inputs, the weights and the initial states.
    """
    L, B = keep.shape
    # The projection's weight goes in as a contiguous [in_dim, C * 4H] matrix: with the transposed view
    # of w_ih instead, autograd computes its gradient as a [C * 4H, L * B] x [L * B, in_dim] product,
    # which MKL runs ~6x slower than the same product the other way round when in_dim is small.
    if all(x is inputs[0] for x in inputs):
        w_ih = torch.cat([w[0] for w in weights]).t().contiguous()
        bias = torch.cat([w[2] + w[3] for w in weights])
        gates_x = torch.addmm(bias, inputs[0].reshape(L * B, -1), w_ih).view(L, B, -1)
    else:
        gates_x = torch.cat([torch.addmm(w[2] + w[3], x.reshape(L * B, -1), w[0].t().contiguous()).view(L, B, -1)
                             for x, w in zip(inputs, weights)], -1)
    w_hh = torch.stack([w[1] for w in weights])
    out = _MaskedLSTM.apply(gates_x, w_hh, torch.stack(h0), torch.stack(c0), keep.to(torch.float32).contiguous())
    return list(out.unbind(0))


class _MaskedLSTM(torch.autograd.Function):
    """``gates_x [L, B, C * 4H]`` (input projections plus biases), ``w_hh [C, 4H, H]``, ``h0, c0
    [C, B, H]``, ``keep [L, B]`` -> ``h [C, L, B, H]``."""

    @staticmethod
    def forward(ctx, gates_x, w_hh, h0, c0, keep):
        forward_kernel, _ = _kernels()
        C, G, H = w_hh.shape
        L, B = keep.shape
        out, cells, tanh_cells, h_prev = torch.empty(4, C, L, B, H, dtype=torch.float32).unbind(0)
        acts = torch.empty(C, L, B, G, dtype=torch.float32)
        forward_kernel(_np(gates_x), _np(w_hh.transpose(1, 2)), _np(h0), _np(c0), keep.numpy(), out.numpy(),
                       cells.numpy(), tanh_cells.numpy(), acts.numpy(), h_prev.numpy())
        ctx.save_for_backward(w_hh, c0, keep, cells, tanh_cells, acts, h_prev)
        return out

    @staticmethod
    def backward(ctx, grad_out):
        _, backward_kernel = _kernels()
        w_hh, c0, keep, cells, tanh_cells, acts, h_prev = ctx.saved_tensors
        C, G, H = w_hh.shape
        L, B = keep.shape
        grad_gates = torch.empty(L, B, C * G, dtype=torch.float32)
        grad_h0, grad_c0 = torch.empty(2, C, B, H, dtype=torch.float32).unbind(0)
        backward_kernel(_np(grad_out), _np(w_hh), _np(c0), keep.numpy(), cells.numpy(), tanh_cells.numpy(),
                        acts.numpy(), grad_gates.numpy(), grad_h0.numpy(), grad_c0.numpy())
        # dW_hh[c] = sum over (t, b) of dgates[c] h_prev[c]^T: one batched GEMM.
        grad_w_hh = torch.bmm(grad_gates.view(L * B, C, G).permute(1, 2, 0), h_prev.view(C, L * B, H))
        return grad_gates, grad_w_hh, grad_h0, grad_c0, None


def _np(t: torch.Tensor):
    return t.detach().contiguous().numpy()


@functools.cache
def _kernels():
    """The two kernels, compiled on first use (or loaded from numba's cache)."""
    from sensorimotor.policies.modules import _masked_lstm_kernels as k

    return k.lstm_forward, k.lstm_backward
