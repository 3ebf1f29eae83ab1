"""The grasp policy as one graph: camera image and gripper state in, the CEM's action out.

The CEM runs inside the graph with the agent's fixed draws (``QTOpt.fixed_noise``, buffers here), so
the exported policy computes exactly what ``QTOpt.predict(deterministic=True)`` does: encode the image
once, score ``cem_samples`` actions per iteration, keep the best. No numpy CEM on the deploy side.
"""

from __future__ import annotations

import copy

import torch
from torch import nn

from sensorimotor.agents.qtopt.cem import CEMSettings, cem_argmax
from sensorimotor.policies.models.grasp_q import GraspQNetwork


class CEMPolicy(nn.Module):
    """``(obs_pixels uint8 [N, C, H, W], obs_state float32 [N, D]) -> action float32 [N, A]`` in [-1, 1].

    Args:
        q: the trained Q-network (a copy is taken, NCHW float32, in eval mode).
        settings: the CEM's samples, elites and iterations.
        noise: ``(uniform [1, S, A], normal [I - 1, 1, S, A])``, the fixed draws.
        binary_mask: ``[A]`` bool components snapped to +-1, or None.
    """

    input_names = ["obs_pixels", "obs_state"]
    output_names = ["action"]
    stateful = False

    def __init__(self, q: GraspQNetwork, settings: CEMSettings, noise: tuple[torch.Tensor, torch.Tensor],
                 binary_mask: torch.Tensor | None):
        super().__init__()
        self.q = copy.deepcopy(q).cpu().float().eval()
        self.q.use_channels_last(False)
        self.q.bf16_trunk = False
        self.settings, self.action_dim = settings, q.action_dim
        self.register_buffer("uniform", noise[0].detach().cpu().clone())
        self.register_buffer("normal", noise[1].detach().cpu().clone())
        mask = binary_mask if binary_mask is not None else torch.zeros(q.action_dim, dtype=torch.bool)
        self.register_buffer("binary_mask", mask.detach().cpu().clone())
        self.has_binary = binary_mask is not None

    def forward(self, obs_pixels: torch.Tensor, obs_state: torch.Tensor) -> torch.Tensor:
        features = self.q.encode(obs_pixels, obs_state)
        action, _ = cem_argmax(lambda a: self.q.score(features, a), obs_pixels.shape[0], self.action_dim,
                               self.settings, self.binary_mask if self.has_binary else None,
                               noise=(self.uniform, self.normal))
        return action

    def example_inputs(self, pixel_shape: tuple[int, ...], state_dim: int, batch: int = 1) -> tuple[torch.Tensor, ...]:
        return torch.zeros(batch, *pixel_shape, dtype=torch.uint8), torch.zeros(batch, state_dim)
