"""MinAtar: channels-first uint8 images (0 or 255 per object channel), seeded resets, and the DQN
pipeline storing whole observations (no frame stack)."""

import numpy as np
import torch

from sensorimotor.agents.dqn import DQN_MINATAR
from sensorimotor.agents.dqn import DQN
from sensorimotor.envs import list_envs, make, make_vec


def test_minatar_observations_and_seeding():
    assert "MinAtar/Breakout-v1" in list_envs(tag="minatar")
    env = make("MinAtar/Breakout-v1")
    obs, _ = env.reset(seed=1)
    assert obs.shape == (4, 10, 10) and obs.dtype == np.uint8 and set(np.unique(obs)) <= {0, 255}
    again, _ = make("MinAtar/Breakout-v1").reset(seed=1)
    assert np.array_equal(obs, again)
    frame = env.render()
    assert frame.shape == (100, 100, 3) and frame.max() > 0


def test_replay_keeps_whole_minatar_observations():
    env = make_vec("MinAtar/SpaceInvaders-v1", 2)
    assert not env.metadata.get("frame_stack")
    replay = DQN(DQN_MINATAR, env.single_observation_space, env.single_action_space).make_replay(env)
    assert replay.stack == 1 and replay.frame_shape == (6, 10, 10) and replay.frames.dtype == torch.uint8
    obs = env.reset(seed=0)
    replay.start(obs)
    seen = [obs.clone()]
    for _ in range(20):
        nxt, r, te, tr, info = env.step(torch.randint(0, 6, (2,)))
        replay.add(torch.zeros(2, dtype=torch.long), r, te, tr, nxt, info["final_obs"])
        seen.append(nxt.clone())
    stacks = replay.stacks(torch.tensor([0, 1]), torch.tensor([5, 5]))
    assert stacks.shape == (2, 1, 6, 10, 10)
    assert torch.equal(stacks[:, 0], seen[5])  # no episode ended this early: slot 5 is step 5 for both envs
