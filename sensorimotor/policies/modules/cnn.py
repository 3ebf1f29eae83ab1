"""Convolutional encoder for pixel observations."""

from __future__ import annotations

import math

import torch
from torch import nn


class ConvEncoder(nn.Module):
    """``uint8 or float [B, C, H, W]`` (0-255) -> ``[B, features]``.

    The Nature-DQN convolutions (Mnih et al. 2015: 32 8x8/4, 64 4x4/2, 64 3x3/1, ReLU) then one
    linear layer; inputs are scaled to [0, 1] inside, so stored frames can stay uint8.

    ``ortho_init``: orthogonal weights with gain sqrt(2) and zero biases (the actor-critic start of
    the PPO paper's code, CleanRL and SB3). PyTorch's default init shrinks the signal at each of the
    four layers: features come out ~0.01 for [0, 1] frames, and a recurrent core after them then sees
    almost no input, so its policy cannot tell frames apart. DQN keeps the default (as its papers).
    """

    def __init__(self, obs_shape: tuple[int, int, int], features: int = 256, ortho_init: bool = False):
        super().__init__()
        channels, height, width = obs_shape
        self.convs = nn.Sequential(
            nn.Conv2d(channels, 32, 8, stride=4), nn.ReLU(),
            nn.Conv2d(32, 64, 4, stride=2), nn.ReLU(),
            nn.Conv2d(64, 64, 3, stride=1), nn.ReLU(),
            nn.Flatten(),
        )
        with torch.no_grad():
            flat = self.convs(torch.zeros(1, channels, height, width)).shape[1]
        self.linear = nn.Sequential(nn.Linear(flat, features), nn.ReLU())
        self.features = features
        self.channels_last = False
        if ortho_init:
            for layer in self.modules():
                if isinstance(layer, (nn.Conv2d, nn.Linear)):
                    nn.init.orthogonal_(layer.weight, math.sqrt(2))
                    nn.init.zeros_(layer.bias)

    def use_channels_last(self, enabled: bool = True) -> None:
        """Keep the convolutions' weights and inputs NHWC (``enabled``) or NCHW from now on: the same
        function in another memory layout, faster where oneDNN's kernels are native to it (see
        ``utils.device.channels_last_is_faster``). Export wants NCHW: torch.export cannot trace the
        layout change over a dynamic batch."""
        self.convs.to(memory_format=torch.channels_last if enabled else torch.contiguous_format)
        self.channels_last = enabled

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        x = obs.to(torch.float32) / 255.0
        if self.channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        return self.linear(self.convs(x))


class SmallConvEncoder(nn.Module):
    """``uint8 or float [B, C, H, W]`` (0-255) small images (MinAtar's 10x10) -> ``[B, features]``.

    The MinAtar paper's network (Young & Tian 2019): one 3x3 convolution with 16 filters, stride 1,
    ReLU, then one linear layer.
    """

    def __init__(self, obs_shape: tuple[int, int, int], features: int = 128):
        super().__init__()
        channels, height, width = obs_shape
        self.conv = nn.Sequential(nn.Conv2d(channels, 16, 3, stride=1), nn.ReLU(), nn.Flatten())
        self.linear = nn.Sequential(nn.Linear(16 * (height - 2) * (width - 2), features), nn.ReLU())
        self.features = features

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        return self.linear(self.conv(obs.to(torch.float32) / 255.0))
