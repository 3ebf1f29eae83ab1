"""numba kernels behind :mod:`masked_lstm` (imported only when the layer is first used).

Shapes: ``C`` cores (LSTMs with their own weights over the same steps, e.g. actor and critic), ``L``
time steps, ``B`` sequences, ``H`` hidden units, ``G = 4H`` gates (i, f, g, o). All arrays float32 and
C-contiguous. Each of the ``C * B`` (core, sequence) pairs is an independent recurrence, so they run in
parallel (``prange``); within one, the inner loops run over the contiguous gate or hidden axis, which
the compiler vectorizes (AVX2: 8 floats per instruction).
"""

from __future__ import annotations

import math

import numba
import numpy as np

_JIT = dict(cache=True, fastmath=True, nogil=True)


@numba.njit(**_JIT)
def _sigmoid_inplace(z, bits):
    """``z <- 1 / (1 + exp(-z))`` over a 1-D float32 array; ``bits`` int32 scratch of the same size.

    exp(-z) = 2^n e^r with n = round(-z / ln 2) and |r| <= ln 2 / 2, e^r by its Taylor polynomial to
    degree 6 (error < r^7 / 7! ~ 1.2e-7 relative), 2^n assembled as a float's exponent bits.
    """
    n_items = z.shape[0]
    for j in range(n_items):
        x = min(max(-z[j], -87.0), 88.0)
        n = math.floor(x * 1.4426950408889634 + 0.5)
        r = x - n * 0.693145751953125 - n * 1.428606820309417e-06  # ln 2 split in two for exactness
        z[j] = 1.0 + r * (1.0 + r * (0.5 + r * (1.0 / 6 + r * (1.0 / 24 + r * (1.0 / 120 + r * (1.0 / 720))))))
        bits[j] = (np.int32(n) + 127) << 23
    two_n = bits.view(np.float32)
    for j in range(n_items):
        z[j] = 1.0 / (1.0 + z[j] * two_n[j])


@numba.njit(parallel=True, **_JIT)
def lstm_forward(gates_x, w_hh_t, h0, c0, keep, out, cells, tanh_cells, acts, h_prev):
    """Inputs: ``gates_x [L, B, C * G]`` (core c's gates at ``c * G``), ``w_hh_t [C, H, G]`` (the
    recurrent weights transposed), ``h0, c0 [C, B, H]``, ``keep [L, B]``. Fills ``out, cells,
    tanh_cells, h_prev [C, L, B, H]`` and the gate activations ``acts [C, L, B, G]`` (what the
    backward pass reads)."""
    L, B = keep.shape
    C, H, G = w_hh_t.shape
    for pair in numba.prange(C * B):
        core, b = pair // B, pair % B
        w = w_hh_t[core]
        h = h0[core, b].copy()
        c = c0[core, b].copy()
        pre = np.empty(G, np.float32)
        cell_pre = np.empty(H, np.float32)
        bits = np.empty(G, np.int32)
        for t in range(L):
            m = keep[t, b]
            for k in range(H):
                h[k] *= m
                c[k] *= m
                h_prev[core, t, b, k] = h[k]
            for j in range(G):
                pre[j] = gates_x[t, b, core * G + j]
            for k in range(0, H, 4):  # four rows per pass: a quarter of the loads and stores of `pre`
                h_0, h_1, h_2, h_3 = h[k], h[k + 1], h[k + 2], h[k + 3]
                for j in range(G):
                    pre[j] += h_0 * w[k, j] + h_1 * w[k + 1, j] + h_2 * w[k + 2, j] + h_3 * w[k + 3, j]
            for j in range(2 * H, 3 * H):
                pre[j] *= 2.0  # tanh(x) = 2 sigmoid(2x) - 1
            _sigmoid_inplace(pre, bits)
            for j in range(2 * H, 3 * H):
                pre[j] = 2.0 * pre[j] - 1.0
            for j in range(G):
                acts[core, t, b, j] = pre[j]
            for k in range(H):
                c[k] = pre[H + k] * c[k] + pre[k] * pre[2 * H + k]
                cells[core, t, b, k] = c[k]
                cell_pre[k] = 2.0 * c[k]
            _sigmoid_inplace(cell_pre, bits[:H])
            for k in range(H):
                tc = 2.0 * cell_pre[k] - 1.0
                tanh_cells[core, t, b, k] = tc
                h[k] = pre[3 * H + k] * tc
                out[core, t, b, k] = h[k]


@numba.njit(parallel=True, **_JIT)
def lstm_backward(grad_out, w_hh, c0, keep, cells, tanh_cells, acts, grad_gates, grad_h0, grad_c0):
    """Inputs: ``grad_out [C, L, B, H]``, ``w_hh [C, G, H]``, ``c0 [C, B, H]``, ``keep [L, B]`` and what
    :func:`lstm_forward` saved. Fills ``grad_gates [L, B, C * G]`` (gradient of the gate
    pre-activations, laid out as ``gates_x``) and ``grad_h0, grad_c0 [C, B, H]``."""
    L, B = keep.shape
    C, G, H = w_hh.shape
    for pair in numba.prange(C * B):
        core, b = pair // B, pair % B
        w = w_hh[core]
        dh = np.zeros(H, np.float32)  # gradient reaching h_t through step t + 1
        dc = np.zeros(H, np.float32)
        dgates = np.empty(G, np.float32)
        for t in range(L - 1, -1, -1):
            m = keep[t, b]
            for k in range(H):
                i, f = acts[core, t, b, k], acts[core, t, b, H + k]
                g, o = acts[core, t, b, 2 * H + k], acts[core, t, b, 3 * H + k]
                c_before = (cells[core, t - 1, b, k] if t > 0 else c0[core, b, k]) * m
                tc = tanh_cells[core, t, b, k]
                dh_k = grad_out[core, t, b, k] + dh[k]
                dc_k = dc[k] + dh_k * o * (1.0 - tc * tc)
                dgates[k] = dc_k * g * i * (1.0 - i)
                dgates[H + k] = dc_k * c_before * f * (1.0 - f)
                dgates[2 * H + k] = dc_k * i * (1.0 - g * g)
                dgates[3 * H + k] = dh_k * tc * o * (1.0 - o)
                dc[k] = dc_k * f * m  # the mask: a reset state passes no gradient back
                dh[k] = 0.0
            for j in range(G):
                grad_gates[t, b, core * G + j] = dgates[j]
            for j in range(0, G, 4):
                d_0, d_1, d_2, d_3 = dgates[j], dgates[j + 1], dgates[j + 2], dgates[j + 3]
                for k in range(H):
                    dh[k] += d_0 * w[j, k] + d_1 * w[j + 1, k] + d_2 * w[j + 2, k] + d_3 * w[j + 3, k]
            for k in range(H):
                dh[k] *= m
        grad_h0[core, b] = dh
        grad_c0[core, b] = dc
