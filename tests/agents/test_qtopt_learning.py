"""QT-Opt learns from pixels: a visual bandit the whole agent (convolutions, action head, CEM argmax,
cross-entropy on 0/1 rewards) must solve within a CPU budget.

The image is black with one 3x3 white spot at position ``p`` in [-0.8, 0.8]^2; the action is a point
in [-1, 1]^2; the reward is 1 when the action lands within 0.3 of ``p``. A uniform action hits with
probability pi 0.3^2 / 4 = 0.071; acting by the CEM's argmax of the learned Q must hit far more often.
(The grasping tasks themselves need hours: benchmarks/results.md, ``qtopt_grasp_*``.)
"""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
import torch

from sensorimotor.agents.buffers.episode_streams import DictTransitionBatch
from sensorimotor.agents.qtopt import QTOpt, QTOptConfig


def _spots(batch: int, generator: torch.Generator) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    p = torch.rand(batch, 2, generator=generator) * 1.6 - 0.8
    pixels = torch.zeros(batch, 3, 32, 32, dtype=torch.uint8)
    col, row = ((p + 1) / 2 * 31).round().long().unbind(1)
    for k in range(batch):
        pixels[k, :, row[k] - 1:row[k] + 2, col[k] - 1:col[k] + 2] = 255
    return p, {"pixels": pixels, "state": torch.zeros(batch, 3)}


@pytest.mark.slow
def test_qtopt_learns_where_to_reach_from_the_image():
    torch.manual_seed(0)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        space = gym.spaces.Dict({"pixels": gym.spaces.Box(0, 255, (3, 32, 32), np.uint8),
                                 "state": gym.spaces.Box(-1, 1, (3,), np.float32)})
        agent = QTOpt(QTOptConfig(learning_rate=1e-3, augment_shift=0), space, gym.spaces.Box(-1, 1, (2,), np.float32))
        generator = torch.Generator().manual_seed(1)
        for _ in range(1200):
            p, obs = _spots(64, generator)
            action = torch.rand(64, 2, generator=generator) * 2 - 1
            reward = ((action - p).norm(dim=1) < 0.3).float()
            agent.train_batch(DictTransitionBatch(obs, action, reward, obs, torch.ones(64, dtype=torch.bool)))
        p, obs = _spots(300, generator)
        hits = ((agent.predict(obs) - p).norm(dim=1) < 0.3).float().mean().item()
    finally:
        torch.set_num_threads(threads)
    assert hits > 0.5, f"the CEM's argmax hit {hits:.2f} of spots; a uniform action hits 0.07"
