"""Q-networks: observation -> one value per discrete action."""

from __future__ import annotations

import torch
from torch import nn

from sensorimotor.policies.export import ActorGraph
from sensorimotor.policies.modules.cnn import ConvEncoder, SmallConvEncoder


class QNetwork(nn.Module):
    """``uint8 [B, C, H, W]`` (pixels: Nature-DQN convolutions, or MinAtar's single small one below 36
    pixels) or ``float [B, D]`` (an MLP) -> ``Q [B, A]``.

    With ``dueling`` (Wang et al. 2016) the head splits into a state value ``V [B, 1]`` and advantages
    ``A [B, A]`` combined as ``V + A - mean(A)``. ``channels_last``: the Nature convolutions in NHWC
    layout (:meth:`ConvEncoder.use_channels_last`; the same function).
    """

    def __init__(self, obs_shape: tuple[int, ...], num_actions: int, dueling: bool = False, hidden: int = 512,
                 channels_last: bool = False):
        super().__init__()
        if len(obs_shape) == 3 and min(obs_shape[1:]) < 36:  # too small for the Nature strides (MinAtar)
            self.encoder = SmallConvEncoder(obs_shape, features=hidden)
        elif len(obs_shape) == 3:
            self.encoder = ConvEncoder(obs_shape, features=hidden)
            self.encoder.use_channels_last(channels_last)
        else:
            self.encoder = nn.Sequential(nn.Linear(int(obs_shape[0]), hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU())
        self.dueling = dueling
        if dueling:
            self.value = nn.Linear(hidden, 1)
            self.advantage = nn.Linear(hidden, num_actions)
        else:
            self.head = nn.Linear(hidden, num_actions)

    def export_actor(self) -> ActorGraph:
        """The network itself: its Q-values' argmax is the greedy action."""
        return ActorGraph(self, continuous=False)

    def use_channels_last(self, enabled: bool) -> None:
        """Switch the Nature convolutions' memory layout (no-op for the other encoders)."""
        if isinstance(self.encoder, ConvEncoder):
            self.encoder.use_channels_last(enabled)

    def forward(self, obs: torch.Tensor, bf16_trunk: bool = False) -> torch.Tensor:
        """``obs [B, ...]`` -> ``Q [B, A]`` float32. ``bf16_trunk``: the encoder under bfloat16 autocast
        (mixed precision); the head always in float32, so Q-values and TD errors keep their precision."""
        with torch.autocast(obs.device.type, dtype=torch.bfloat16, enabled=bf16_trunk):
            x = self.encoder(obs if obs.dtype == torch.uint8 else obs.float())
        x = x.float()
        if self.dueling:
            a = self.advantage(x)
            return self.value(x) + a - a.mean(dim=1, keepdim=True)
        return self.head(x)
