"""Minibatches of whole fixed-length sequences for recurrent PPO (truncated BPTT)."""

from __future__ import annotations

from collections.abc import Iterator

import torch


def to_chunks(x: torch.Tensor, seq_len: int) -> torch.Tensor:
    """``[T, N, ...] -> [seq_len, C, ...]`` with ``C = (T / seq_len) * N``.

    Chunk ``c = k * N + n`` holds steps ``k * seq_len ... (k + 1) * seq_len - 1`` of env ``n``.
    """
    T, N = x.shape[:2]
    K = T // seq_len
    return x.reshape(K, seq_len, N, *x.shape[2:]).transpose(0, 1).reshape(seq_len, K * N, *x.shape[2:])


def chunk_initial_states(states: torch.Tensor, seq_len: int) -> torch.Tensor:
    """``states [T, N, S]`` (the state each step was acted from) -> ``[C, S]``, each chunk's first."""
    T, N = states.shape[:2]
    return states[::seq_len].reshape((T // seq_len) * N, *states.shape[2:])


def sequence_minibatches(
    data: dict[str, torch.Tensor], states: torch.Tensor, seq_len: int, chunks_per_batch: int,
    generator: torch.Generator | None = None,
) -> Iterator[tuple[dict[str, torch.Tensor], torch.Tensor]]:
    """One epoch of minibatches over the rollout, chunks in random order.

    Args:
        data: ``name -> [T, N, ...]`` tensors (observations, actions, ``episode_starts``...).
        states: ``[T, N, S]`` recurrent state each step was acted from (already reset at starts).
        seq_len: chunk length; must divide T.
        chunks_per_batch: chunks in each minibatch; must divide the number of chunks.

    Yields:
        ``(batch, initial_states)``: ``name -> [seq_len, chunks_per_batch, ...]`` and ``[chunks_per_batch, S]``.
    """
    chunked = {k: to_chunks(v, seq_len) for k, v in data.items()}
    initial = chunk_initial_states(states, seq_len)
    C = initial.shape[0]
    order = torch.randperm(C, generator=generator, device=states.device)
    for index in order.view(C // chunks_per_batch, chunks_per_batch):
        yield {k: v[:, index] for k, v in chunked.items()}, initial[index]
