"""PilotNet (Bojarski et al. 2016, "End to End Learning for Self-Driving Cars", figure 4).

As published: a fixed normalization layer, five convolutions (24, 36, 48 filters 5x5 stride 2; 64, 64
filters 3x3 stride 1), three fully connected layers (100, 50, 10) and one output: ~250k parameters
on a 3 x 66 x 200 image (252,219 here). What the paper leaves open, and what we chose: ReLU
activations (the paper names none), the normalization as ``x / 127.5 - 1`` on RGB (the paper feeds
YUV planes; the simulator's RGB carries the same information), and the output is the steering action
in [-1, 1] (x 0.5 rad) rather than the inverse turning radius (for one car the two are a fixed map).
Other image sizes work as long as the convolutions leave at least one pixel (64 x 64 does).
"""

from __future__ import annotations

import torch
from torch import nn

from sensorimotor.errors import UserError
from sensorimotor.policies.export import ActorGraph


class PilotNet(nn.Module):
    """``uint8 or float [B, 3, H, W]`` (0-255) -> steering ``[B, 1]`` (unbounded; clamp to act).

    Args:
        obs_shape: ``(channels, height, width)`` of one image.
        outputs: actions regressed (1: steering).
    """

    def __init__(self, obs_shape: tuple[int, int, int], outputs: int = 1):
        super().__init__()
        channels, height, width = obs_shape
        self.convs = nn.Sequential(
            nn.Conv2d(channels, 24, 5, stride=2), nn.ReLU(),
            nn.Conv2d(24, 36, 5, stride=2), nn.ReLU(),
            nn.Conv2d(36, 48, 5, stride=2), nn.ReLU(),
            nn.Conv2d(48, 64, 3), nn.ReLU(),
            nn.Conv2d(64, 64, 3), nn.ReLU(),
            nn.Flatten(),
        )
        out_h, out_w = height, width
        for kernel, stride in ((5, 2), (5, 2), (5, 2), (3, 1), (3, 1)):
            out_h, out_w = (out_h - kernel) // stride + 1, (out_w - kernel) // stride + 1
        if out_h < 1 or out_w < 1:
            raise UserError(f"PilotNet cannot take {height}x{width} images: its five convolutions need at least "
                            "47x47 pixels (PilotNet's own size is 66x200).")
        self.head = nn.Sequential(
            nn.Linear(64 * out_h * out_w, 100), nn.ReLU(),
            nn.Linear(100, 50), nn.ReLU(),
            nn.Linear(50, 10), nn.ReLU(),
            nn.Linear(10, outputs),
        )

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        x = obs.to(torch.float32) / 127.5 - 1.0  # PilotNet's normalization layer: fixed, in the graph
        return self.head(self.convs(x))

    def export_actor(self) -> ActorGraph:
        """The whole network is the actor; the export clamps its output to the action bounds."""
        return ActorGraph(self, continuous=True)
