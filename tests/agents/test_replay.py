"""Frame replay: stacks rebuilt by index equal the observations the agent saw (across episode ends
and the circular wrap), n-step targets against hand-worked numbers, and the memory per transition."""

import numpy as np
import pytest
import torch

from sensorimotor.agents.buffers import FrameReplay, replay_bytes_per_transition
from sensorimotor.errors import UserError


class StackingStream:
    """N fake envs whose frames are ``[2, 2]`` images filled with a counter; observations are 4-frame
    stacks padded with zeros (or the first frame) before the episode start, as the env would build them."""

    def __init__(self, n, pad, seed=0):
        self.n, self.pad, self.rng = n, pad, np.random.default_rng(seed)
        self.counter = 1
        self.history = [[] for _ in range(n)]

    def _frame(self):
        self.counter = self.counter % 250 + 1  # never 0: zero padding stays distinguishable
        return np.full((2, 2), self.counter, np.uint8)

    def _obs(self, i):
        h = self.history[i][-4:]
        filler = np.zeros((2, 2), np.uint8) if self.pad == "zeros" else h[0]
        return np.stack([filler] * (4 - len(h)) + h)

    def reset(self):
        for i in range(self.n):
            self.history[i] = [self._frame()]
        return torch.as_tensor(np.stack([self._obs(i) for i in range(self.n)]))

    def step(self, p_end=0.15):
        terminated = self.rng.random(self.n) < p_end / 2
        truncated = ~terminated & (self.rng.random(self.n) < p_end / 2)
        final, nxt = [], []
        for i in range(self.n):
            self.history[i].append(self._frame())
            final.append(self._obs(i))
            if terminated[i] or truncated[i]:
                self.history[i] = [self._frame()]
            nxt.append(self._obs(i))
        return (torch.as_tensor(np.stack(nxt)), torch.as_tensor(terminated), torch.as_tensor(truncated),
                torch.as_tensor(np.stack(final)))


@pytest.mark.parametrize("pad", ["zeros", "first"])
def test_rebuilt_stacks_equal_what_the_agent_saw_across_episode_ends_and_the_wrap(pad):
    stream = StackingStream(3, pad)
    replay = FrameReplay(capacity=3 * 40, num_envs=3, frame_shape=(2, 2), stack=4, pad=pad)
    obs = stream.reset()
    replay.start(obs)
    seen = {}  # (env, write count) -> (obs, next_obs the agent got, done)
    for step in range(300):  # ~7 laps of the 40-slot ring
        nxt, term, trunc, final = stream.step()
        written = replay.written.clone()
        replay.add(torch.zeros(3, dtype=torch.long), torch.zeros(3), term, trunc, nxt, final)
        for i in range(3):
            seen[(i, int(written[i]) % replay.slots)] = (obs[i].clone(), final[i].clone(), bool(term[i] | trunc[i]))
        obs = nxt
    assert int(replay.written.max()) > 3 * replay.slots  # wrapped several times
    valid = replay.valid()
    env, slot = valid.nonzero(as_tuple=True)
    assert env.numel() > 80
    rebuilt = replay.stacks(env, slot)
    for e, s, stack in zip(env.tolist(), slot.tolist(), rebuilt):
        expected_obs, expected_next, _ = seen[(e, s)]
        assert torch.equal(stack, expected_obs), (e, s)
    batch = replay.sample(256, n_step=1, generator=torch.Generator().manual_seed(0))
    ends = 0
    for (e, s), next_stack, done in zip(batch.index.tolist(), batch.next_obs, batch.terminated | batch.truncated):
        expected_obs, expected_next, was_done = seen[(e, s)]
        assert bool(done) == was_done
        assert torch.equal(next_stack, expected_next)  # the final observation after an episode end, not the reset one
        ends += was_done
    assert ends > 5


def test_n_step_targets_by_hand():
    # One env: rewards 1, 2, 3 then terminated; the next episode gets rewards 10, 20, ...
    replay = FrameReplay(capacity=32, num_envs=1, frame_shape=(1, 1), stack=1)
    frame = lambda v: torch.full((1, 1, 1, 1), v, dtype=torch.uint8)  # noqa: E731
    replay.start(frame(1))
    for t, (r, term) in enumerate([(1, False), (2, False), (3, True), (10, False), (20, False), (30, False)]):
        final = frame(99) if term else None
        replay.add(torch.tensor([t]), torch.tensor([float(r)]), torch.tensor([term]), torch.tensor([False]),
                   frame(t + 2), final)
    gamma = 0.5
    # Slots (frame value): 0:(1) r1  1:(2) r2  2:(3) r3, terminated  3:(99) final obs, no transition
    #                     4:(4) r10 -- the reset obs is the frame of step t=2's next_obs  5:(5) r20  6:(6) r30
    batch = replay.sample(400, gamma=gamma, n_step=3, generator=torch.Generator().manual_seed(1))
    by_slot = {}
    for k, s in enumerate(batch.index[:, 1].tolist()):
        by_slot[s] = (batch.reward[k].item(), batch.discount[k].item(), bool(batch.terminated[k]),
                      int(batch.next_obs[k, 0, 0, 0]), int(batch.action[k]))
    assert set(by_slot) == {0, 1, 2}  # slots 4+ lack 3 written successors; slot 3 starts no transition
    assert by_slot[0] == (1 + 0.5 * 2 + 0.25 * 3, 0.125, True, 99, 0)
    assert by_slot[1] == (2 + 0.5 * 3, 0.25, True, 99, 1)
    assert by_slot[2] == (3.0, 0.5, True, 99, 2)
    one = replay.sample(400, gamma=gamma, n_step=1, generator=torch.Generator().manual_seed(2))
    slot4 = one.index[:, 1] == 4
    assert slot4.any() and torch.all(one.reward[slot4] == 10) and torch.all(one.next_obs[slot4] == 5)
    assert torch.all(one.discount == 0.5)


def test_memory_per_transition_and_the_million_figure():
    per = replay_bytes_per_transition((84, 84))
    assert per == 7056 + 13
    replay = FrameReplay(capacity=8000, num_envs=8, frame_shape=(84, 84))
    assert replay.nbytes == 8000 * per
    assert 1_000_000 * per / 1e9 < 7.1  # one million Atari transitions: 7.07 GB
    with pytest.raises(UserError, match=r"needs 6.6 GiB, more than the 1.0 GiB of RAM allowed"):
        FrameReplay(capacity=1_000_000, num_envs=8, frame_shape=(84, 84), memory_limit_bytes=2**30)


def test_bad_settings_are_refused():
    with pytest.raises(UserError, match="frame stack"):
        FrameReplay(100, 1, (2, 2), stack=0)
    with pytest.raises(UserError, match="too small"):
        FrameReplay(8, 2, (2, 2), stack=4)


def test_state_dict_round_trip_restores_the_contents_and_refuses_another_shape():
    stream = StackingStream(2, "zeros", seed=3)
    replay = FrameReplay(capacity=60, num_envs=2, frame_shape=(2, 2))
    obs = stream.reset()
    replay.start(obs)
    for _ in range(50):
        nxt, term, trunc, final = stream.step()
        replay.add(torch.ones(2, dtype=torch.long), torch.ones(2), term, trunc, nxt, final)
    restored = FrameReplay(capacity=60, num_envs=2, frame_shape=(2, 2))
    restored.load_state_dict({k: v.clone() for k, v in replay.state_dict().items()})
    g1, g2 = torch.Generator().manual_seed(5), torch.Generator().manual_seed(5)
    a, b = replay.sample(64, generator=g1), restored.sample(64, generator=g2)
    assert torch.equal(a.obs, b.obs) and torch.equal(a.next_obs, b.next_obs) and torch.equal(a.index, b.index)
    with pytest.raises(UserError, match="same --dqn.buffer-size"):
        FrameReplay(capacity=80, num_envs=2, frame_shape=(2, 2)).load_state_dict(replay.state_dict())


def test_life_loss_terminal_keeps_the_stack_going():
    replay = FrameReplay(capacity=32, num_envs=1, frame_shape=(1, 1), stack=2)
    frame = lambda *v: torch.tensor(v, dtype=torch.uint8).view(1, len(v), 1, 1)  # noqa: E731
    replay.start(frame(0, 1))
    # step 0: life lost (terminated, game goes on, env stack continues: [1, 2]); step 1: ordinary
    replay.add(torch.tensor([0]), torch.tensor([1.0]), torch.tensor([True]), torch.tensor([False]), frame(1, 2),
               frame(1, 2), reset=torch.tensor([False]))
    replay.add(torch.tensor([1]), torch.tensor([5.0]), torch.tensor([False]), torch.tensor([False]), frame(2, 3))
    replay.add(torch.tensor([2]), torch.tensor([7.0]), torch.tensor([False]), torch.tensor([False]), frame(3, 4))
    replay.add(torch.tensor([3]), torch.tensor([9.0]), torch.tensor([False]), torch.tensor([False]), frame(4, 5))
    batch = replay.sample(200, gamma=0.5, n_step=2, generator=torch.Generator().manual_seed(0))
    rows = {int(s): k for k, s in enumerate(batch.index[:, 1])}
    assert set(rows) == {0, 1}  # slot 2 lacks its second successor
    k0, k1 = rows[0], rows[1]
    assert batch.terminated[k0] and batch.reward[k0] == 1.0 and batch.next_obs[k0].flatten().tolist() == [1, 2]
    assert not batch.terminated[k1] and batch.reward[k1] == 5 + 0.5 * 7 and batch.discount[k1] == 0.25
    assert batch.next_obs[k1].flatten().tolist() == [3, 4]
    assert batch.obs[k1].flatten().tolist() == [1, 2]  # the history crosses the life loss: no zero padding


def test_cut_ends_the_streams_as_truncations_that_bootstrap_from_the_pending_observation():
    replay = FrameReplay(16, 2, (1,), stack=1, dtype=torch.float32)
    replay.start(torch.tensor([[[0.0]], [[100.0]]]))
    for i in range(1, 4):
        ended = torch.tensor([False, i == 3])  # env 1's episode ends on the last step: nothing left open
        replay.add(torch.tensor([0, 0]), torch.tensor([1.0, 1.0]), ended, torch.tensor([False, False]),
                   torch.tensor([[[float(i)]], [[100.0 + 10 * i]]]), torch.tensor([[[float(i)]], [[-1.0]]]))
    saved = replay.state_dict()
    resumed = FrameReplay(16, 2, (1,), stack=1, dtype=torch.float32)
    resumed.load_state_dict(saved)
    resumed.cut()
    # env 0: slots 0..2 hold obs 0, 1, 2; the cut marks slot 2 truncated and writes its next obs (3) as a final slot
    assert resumed.truncated[0].tolist()[:4] == [False, False, True, False]
    assert resumed.is_transition[0].tolist()[:4] == [True, True, True, False]
    assert resumed.frames[0, 3, 0].item() == 3.0
    # env 1 already ended with a final slot (-1): nothing is added
    assert int(resumed.written[1]) == 4 and resumed.frames[1, 3, 0].item() == -1.0
    resumed.start(torch.tensor([[[50.0]], [[60.0]]]))
    for value in (51.0, 52.0):
        resumed.add(torch.tensor([0, 0]), torch.tensor([1.0, 1.0]), torch.tensor([False, False]),
                    torch.tensor([False, False]), torch.tensor([[[value]], [[value + 10]]]))
    # the cut transition (slot 2) bootstraps from obs 3; the new episode's first one (slot 4: obs 50) from 51
    env, slot = torch.tensor([0, 0]), torch.tensor([2, 4])
    assert bool(resumed.valid(env, slot).all())
    assert resumed.stacks(env, slot + 1)[:, 0, 0].tolist() == [3.0, 51.0]
