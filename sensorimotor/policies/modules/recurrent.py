"""LSTM and GRU cores behind one interface, with the recurrent state as one explicit tensor.

The state of a core is a single ``[B, state_size]`` tensor (LSTM: ``h`` and ``c`` of every layer,
GRU: ``h`` of every layer, concatenated), so storage, reset masks and exported graphs handle one
tensor whatever the cell. Whole sequences go through the fused ``nn.LSTM`` / ``nn.GRU`` kernel in one
call, never a Python loop over time steps: small LSTMs on the CPU through :mod:`masked_lstm`, which
zeroes the state at episode starts with a mask; everything else through the fused ``nn.LSTM`` /
``nn.GRU`` kernel, with episode starts cutting each sequence into segments that run side by side from a
zero state (:func:`split_at_starts`).
"""

from __future__ import annotations

import torch
from torch import nn

from sensorimotor.policies.modules import masked_lstm

CELLS = {"lstm": nn.LSTM, "gru": nn.GRU}


class RecurrentCore(nn.Module):
    """``x [B, in_dim]`` (one step) or ``[L, B, in_dim]`` (a sequence) -> ``[.., hidden]``.

    Args:
        kind: ``"lstm"`` or ``"gru"``.
        in_dim: input features per step.
        hidden: hidden units per layer.
        layers: stacked layers.
    """

    def __init__(self, kind: str, in_dim: int, hidden: int, layers: int = 1):
        super().__init__()
        if kind not in CELLS:
            from sensorimotor.errors import UserError

            raise UserError(f"unknown recurrent cell {kind!r}; choose one of {', '.join(CELLS)}.")
        self.kind, self.hidden, self.layers = kind, hidden, layers
        self.rnn = CELLS[kind](in_dim, hidden, num_layers=layers)
        for name, param in self.rnn.named_parameters():
            # Orthogonal recurrent weights and zero biases: the usual stable start for RL cores.
            if "weight_hh" in name:
                nn.init.orthogonal_(param)
            elif "bias" in name:
                nn.init.zeros_(param)

    @property
    def state_size(self) -> int:
        """Floats per env in the flat state: ``layers * hidden`` per tensor (LSTM has two)."""
        return self.layers * self.hidden * (2 if self.kind == "lstm" else 1)

    def initial_state(self, batch: int, device: torch.device | str = "cpu") -> torch.Tensor:
        return torch.zeros(batch, self.state_size, device=device)

    def weights(self) -> tuple[tuple[torch.Tensor, ...], ...]:
        """Per layer ``(weight_ih, weight_hh, bias_ih, bias_hh)`` of the fused module."""
        names = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")
        return tuple(tuple(getattr(self.rnn, f"{n}_l{layer}") for n in names) for layer in range(self.layers))

    def step(self, x: torch.Tensor, state: torch.Tensor, weights=None) -> tuple[torch.Tensor, torch.Tensor]:
        """One step: ``x [B, in_dim]``, ``state [B, S]`` -> ``(out [B, hidden], new state [B, S])``.

        Written out cell by cell (same maths as the fused kernel, PyTorch's gate order) so acting
        compiles into one small graph: the fused kernel costs ~0.2 ms of set-up per call on the CPU,
        and torch.compile does not trace ``nn.LSTM``, hence ``weights`` (from :meth:`weights`) can be
        passed in explicitly.
        """
        weights = self.weights() if weights is None else weights
        B, H = x.shape[0], self.hidden
        parts = state.view(B, -1, self.layers, H)
        new_h, new_c = [], []
        for layer, (w_ih, w_hh, b_ih, b_hh) in enumerate(weights):
            h = parts[:, 0, layer]
            gx = torch.addmm(b_ih, x, w_ih.t())
            gh = torch.addmm(b_hh, h, w_hh.t())
            if self.kind == "lstm":
                i, f, g, o = (gx + gh).chunk(4, -1)
                c = torch.sigmoid(f) * parts[:, 1, layer] + torch.sigmoid(i) * torch.tanh(g)
                x = torch.sigmoid(o) * torch.tanh(c)
                new_c.append(c)
            else:
                xr, xz, xn = gx.chunk(3, -1)
                hr, hz, hn = gh.chunk(3, -1)
                r, z = torch.sigmoid(xr + hr), torch.sigmoid(xz + hz)
                x = (1 - z) * torch.tanh(xn + r * hn) + z * h
            new_h.append(x)
        return x, torch.cat(new_h + new_c, -1)

    def uses_masks(self, device: torch.device | str, dtype: torch.dtype = torch.float32) -> bool:
        """Whether :meth:`sequence` runs inputs of this device and dtype through the masked kernel: no
        :class:`SegmentPlan`, so a minibatch's shapes never depend on where its episodes start."""
        return self.kind == "lstm" and masked_lstm.available(device, dtype, self.hidden)

    def sequence(self, x: torch.Tensor, state: torch.Tensor, starts: torch.Tensor,
                 plan: SegmentPlan | None = None) -> torch.Tensor:
        """A sequence cut at episode starts: ``x [L, B, in_dim]``, ``state [B, S]`` (the state before
        step 0), ``starts [L, B]`` bool (step t begins an episode: it sees a zero state) ->
        ``out [L, B, hidden]``, equal to stepping with :meth:`step` and zeroing the state at starts.
        ``plan`` (from :func:`split_at_starts`) may be shared between cores that see the same starts;
        the masked kernel ignores it."""
        if self.uses_masks(x.device, x.dtype):
            return masked_sequences([self], x, [state], starts)[0]
        plan = split_at_starts(starts) if plan is None else plan
        padded = x.new_zeros(plan.max_len, plan.segments, x.shape[-1])
        padded[plan.position, plan.segment] = x.transpose(0, 1).reshape(-1, x.shape[-1])
        # A segment continues the given state only if it is the column's first and no episode starts there.
        carry = (plan.first_step & ~plan.starts_episode).to(state.dtype).unsqueeze(-1)
        initial = state[plan.column] * carry
        out, _ = self.rnn(padded, self._unflatten(initial))
        L, B = starts.shape
        return out[plan.position, plan.segment].view(B, L, -1).transpose(0, 1)

    def _unflatten(self, state: torch.Tensor):
        # [B, S] -> [layers, B, hidden] (GRU) or a pair of them (LSTM); contiguous as cuDNN/MKL-DNN need.
        parts = state.view(state.shape[0], -1, self.layers, self.hidden).permute(1, 2, 0, 3)
        if self.kind == "lstm":
            return parts[0].contiguous(), parts[1].contiguous()
        return parts[0].contiguous()


def masked_sequences(cores: list[RecurrentCore], x: torch.Tensor, states: list[torch.Tensor],
                     starts: torch.Tensor) -> list[torch.Tensor]:
    """:meth:`RecurrentCore.sequence` for LSTM cores that read the same ``x [L, B, in_dim]`` (actor
    and critic), through the masked kernel in one call per layer; ``states`` per core ``[B, S]``.
    Returns per core ``out [L, B, hidden]``. The cores must have equal sizes."""
    keep = (~starts).to(x.dtype)
    B, layers, hidden = x.shape[1], cores[0].layers, cores[0].hidden
    parts = [state.view(B, 2, layers, hidden) for state in states]
    weights = [core.weights() for core in cores]
    inputs = [x] * len(cores)
    for layer in range(layers):
        inputs = masked_lstm.masked_lstm(inputs, [p[:, 0, layer] for p in parts], [p[:, 1, layer] for p in parts],
                                         keep, [w[layer] for w in weights])
    return inputs


class SegmentPlan:
    """Where each step of an ``[L, B]`` batch lands in a padded ``[max_len, segments]`` batch.

    Attributes (``N = L * B``, steps taken column by column):
        position, segment: ``[N]`` the step's row and column in the padded batch.
        column: ``[segments]`` the env column each segment comes from.
        first_step: ``[segments]`` the segment starts at step 0 of its column.
        starts_episode: ``[segments]`` the segment starts with an episode start.
        segments, max_len: the padded batch's size.
    """

    def __init__(self, position, segment, column, first_step, starts_episode, segments, max_len):
        self.position, self.segment, self.column = position, segment, column
        self.first_step, self.starts_episode = first_step, starts_episode
        self.segments, self.max_len = segments, max_len


def split_at_starts(starts: torch.Tensor) -> SegmentPlan:
    """Cut each column of ``starts [L, B]`` (bool) into segments that begin at step 0 or at a start.

    Two host syncs (segment count and longest segment); everything else is vectorized.
    """
    L, B = starts.shape
    boundary = starts.t().clone()  # [B, L]: column-major so a segment is contiguous
    boundary[:, 0] = True
    flat = boundary.reshape(-1)
    segment = torch.cumsum(flat.long(), 0) - 1
    start_index = torch.nonzero(flat).squeeze(-1)  # [segments] flat index of each segment's first step
    segments = int(start_index.numel())
    position = torch.arange(flat.numel(), device=starts.device) - start_index[segment]
    lengths = torch.diff(start_index, append=start_index.new_tensor([flat.numel()]))
    column = torch.div(start_index, L, rounding_mode="floor")
    first_step = start_index % L == 0
    starts_episode = starts.t().reshape(-1)[start_index]
    return SegmentPlan(position, segment, column, first_step, starts_episode, segments, int(lengths.max()))


def reset_state(state: torch.Tensor, episode_start: torch.Tensor) -> torch.Tensor:
    """Zero the ``[B, S]`` state where ``episode_start [B]`` is set."""
    return state * (~episode_start).to(state.dtype).unsqueeze(-1)
