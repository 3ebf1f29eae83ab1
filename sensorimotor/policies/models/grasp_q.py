"""The grasp Q-function: (camera image, gripper state, candidate action) -> grasp-success logit.

Split in two so the CEM can score many actions per image while encoding the image once:
``encode(pixels, state)`` runs the image part, ``score(features, actions [B, S, A])`` the part that
sees the action. Where the action enters (``fusion``) decides how much of the network runs per action:

- ``late``: convolutions -> flatten -> 256 features; the action and state join after them, in a
  3-layer MLP. Per extra action: the MLP only (~0.13 MFLOP).
- ``tiled`` (Levine et al. 2016, QT-Opt): the action and state, through a small MLP, are added to every
  position of the second convolution's feature map, and the third convolution and the dense layers
  run on the sum. Per extra action: the third convolution and the dense layers (~3 MFLOP at 64x64).

Both end in one logit; ``sigmoid(logit)`` is the predicted probability of a successful grasp.
"""

from __future__ import annotations

from typing import Literal

import torch
from torch import nn

Fusion = Literal["late", "tiled"]


class GraspQNetwork(nn.Module):
    """Args:
        pixel_shape: ``(C, H, W)`` of the uint8 camera image (at least 24x24).
        state_dim: length of the proprioceptive state (gripper closed, height, step fraction).
        action_dim: length of the action vector, in [-1, 1].
        fusion: ``late`` or ``tiled`` (module docstring).
        hidden: width of the dense layers.

    ``use_channels_last``: the convolutions in NHWC layout (the same function; faster where oneDNN's
    kernels are native to it). ``bf16_trunk``: the image part under bfloat16 autocast, the layers that
    see the action in float32.
    """

    def __init__(self, pixel_shape: tuple[int, int, int], state_dim: int, action_dim: int,
                 fusion: Fusion = "late", hidden: int = 256):
        super().__init__()
        self.fusion, self.action_dim = fusion, action_dim
        channels = pixel_shape[0]
        self.stem = nn.Sequential(  # 64x64 -> 30x30 -> 14x14
            nn.Conv2d(channels, 32, 5, stride=2), nn.ReLU(),
            nn.Conv2d(32, 64, 3, stride=2), nn.ReLU())
        self.top = nn.Sequential(nn.Conv2d(64, 64, 3, stride=2), nn.ReLU(), nn.Flatten())  # -> 6x6
        with torch.no_grad():
            stem_shape = self.stem(torch.zeros(1, *pixel_shape)).shape[1:]
            flat = self.top(torch.zeros(1, *stem_shape)).shape[1]
        self.stem_shape = tuple(stem_shape)
        context = state_dim + action_dim
        if fusion == "late":
            self.image_head = nn.Sequential(nn.Linear(flat, hidden), nn.ReLU())
            self.head = nn.Sequential(nn.Linear(hidden + context, hidden), nn.ReLU(),
                                      nn.Linear(hidden, hidden), nn.ReLU(), nn.Linear(hidden, 1))
        elif fusion == "tiled":
            self.context = nn.Sequential(nn.Linear(context, 64), nn.ReLU(), nn.Linear(64, stem_shape[0]))
            self.head = nn.Sequential(nn.Linear(flat, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU(),
                                      nn.Linear(hidden, 1))
        else:
            raise ValueError(f"fusion must be 'late' or 'tiled', got {fusion!r}")
        self.channels_last, self.bf16_trunk = False, False

    def use_channels_last(self, enabled: bool = True) -> None:
        layout = torch.channels_last if enabled else torch.contiguous_format
        self.stem.to(memory_format=layout)
        self.top.to(memory_format=layout)
        self.channels_last = enabled

    def encode(self, pixels: torch.Tensor, state: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``pixels`` uint8 ``[B, C, H, W]``, ``state [B, D]`` -> ``(image features, state)``: ``[B, hidden]``
        (late) or the feature map ``[B, 64, h, w]`` (tiled), and the state as float32."""
        x = pixels.float() / 255.0
        if self.channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        with torch.autocast(x.device.type, dtype=torch.bfloat16, enabled=self.bf16_trunk):
            x = self.stem(x)
            if self.fusion == "late":
                x = self.image_head(self.top(x))
        return x.float(), state.float()

    def score(self, features: tuple[torch.Tensor, torch.Tensor], actions: torch.Tensor) -> torch.Tensor:
        """``features`` from :meth:`encode` for ``B`` states and ``actions [B, S, A]`` -> logits ``[B, S]``."""
        image, state = features
        b, s = actions.shape[:2]
        context = torch.cat([state[:, None].expand(b, s, state.shape[-1]), actions], dim=-1)  # [B, S, D + A]
        if self.fusion == "late":
            joint = torch.cat([image[:, None].expand(b, s, image.shape[-1]), context], dim=-1)
            return self.head(joint).squeeze(-1)
        tiles = self.context(context)  # [B, S, 64]
        maps = image[:, None] + tiles[..., None, None]  # [B, S, 64, h, w]
        return self.head(self.top(maps.flatten(0, 1))).view(b, s)

    def forward(self, pixels: torch.Tensor, state: torch.Tensor, action: torch.Tensor) -> torch.Tensor:
        """``pixels [B, C, H, W]`` uint8, ``state [B, D]``, ``action [B, A]`` -> logits ``[B]``."""
        return self.score(self.encode(pixels, state), action[:, None]).squeeze(1)
