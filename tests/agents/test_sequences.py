"""Sequence minibatches for recurrent PPO against a hand-built rollout."""

import torch

from sensorimotor.agents.sequences import chunk_initial_states, sequence_minibatches, to_chunks


def test_to_chunks_hand_built():
    # T=4 steps, N=2 envs, value = 10 * t + n; chunks of 2 steps: c = k * N + n
    x = torch.tensor([[10 * t + n for n in range(2)] for t in range(4)])
    chunks = to_chunks(x, 2)
    assert chunks.t().tolist() == [[0, 10], [1, 11], [20, 30], [21, 31]]


def test_chunk_initial_states_are_each_chunks_first_step():
    states = torch.arange(4 * 2 * 3, dtype=torch.float32).view(4, 2, 3)
    initial = chunk_initial_states(states, 2)
    assert initial.tolist() == [states[0, 0].tolist(), states[0, 1].tolist(), states[2, 0].tolist(),
                                states[2, 1].tolist()]


def test_minibatches_cover_every_chunk_once_with_its_state():
    T, N, L = 8, 3, 4
    steps = torch.arange(T * N).view(T, N)  # a unique id per (t, n)
    states = steps.float().unsqueeze(-1).expand(T, N, 2).clone()
    seen = []
    for batch, initial in sequence_minibatches({"id": steps}, states, L, chunks_per_batch=2,
                                               generator=torch.Generator().manual_seed(0)):
        assert batch["id"].shape == (L, 2) and initial.shape == (2, 2)
        for j in range(2):
            column = batch["id"][:, j]
            assert (column.diff() == N).all()  # consecutive steps of one env
            assert initial[j, 0].item() == column[0].item()  # the state saved at the chunk's first step
            seen.append(column[0].item())
    assert sorted(seen) == sorted(steps[::L].flatten().tolist())
