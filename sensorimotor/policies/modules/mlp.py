"""Multi-layer perceptron with orthogonal initialization."""

from __future__ import annotations

import math

from torch import nn

ACTIVATIONS = {"tanh": nn.Tanh, "relu": nn.ReLU, "elu": nn.ELU, "silu": nn.SiLU}


class MLP(nn.Sequential):
    """``[B, in_dim] -> [B, out_dim]`` through ``hidden`` layers with ``activation`` between.

    Args:
        ortho_init: orthogonal weights with gain sqrt(2) on hidden layers and ``output_gain`` on the
            last one, zero biases (Engstrom et al. 2020 found this matters for PPO).
    """

    def __init__(
        self, in_dim: int, out_dim: int, hidden: tuple[int, ...], activation: str = "tanh",
        ortho_init: bool = True, output_gain: float = 1.0,
    ):
        if activation not in ACTIVATIONS:
            from sensorimotor.errors import UserError

            raise UserError(f"unknown activation {activation!r}; choose one of {', '.join(ACTIVATIONS)}.")
        layers: list[nn.Module] = []
        dims = (in_dim, *hidden)
        for a, b in zip(dims[:-1], dims[1:]):
            layers += [_linear(a, b, math.sqrt(2), ortho_init), ACTIVATIONS[activation]()]
        layers.append(_linear(dims[-1], out_dim, output_gain, ortho_init))
        super().__init__(*layers)


def _linear(a: int, b: int, gain: float, ortho: bool) -> nn.Linear:
    layer = nn.Linear(a, b)
    if ortho:
        nn.init.orthogonal_(layer.weight, gain)
        nn.init.zeros_(layer.bias)
    return layer
