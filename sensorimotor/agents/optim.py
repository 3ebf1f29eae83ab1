"""Adam as a pure function over dicts of tensors, so one compiled graph can hold a whole update."""

from __future__ import annotations

import torch

Tensors = dict[str, torch.Tensor]


def adam_init(params: Tensors) -> dict[str, Tensors | torch.Tensor]:
    """Zero first and second moments and a step count of 0."""
    return {
        "m": {k: torch.zeros_like(v) for k, v in params.items()},
        "v": {k: torch.zeros_like(v) for k, v in params.items()},
        "step": torch.zeros((), dtype=torch.float32),
    }


def adam_step(
    params: Tensors, grads: Tensors, state: dict, lr: torch.Tensor,
    betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
) -> tuple[Tensors, dict]:
    """One Adam step (Kingma & Ba 2015, bias-corrected; same as ``torch.optim.Adam``).

    ``p <- p - lr * m_hat / (sqrt(v_hat) + eps)`` with ``m_hat = m / (1 - b1^t)`` and
    ``v_hat = v / (1 - b2^t)``. Returns new params and new state; inputs are not modified.
    """
    b1, b2 = betas
    step = state["step"] + 1
    correction1 = 1 - b1**step
    correction2 = 1 - b2**step
    new_params, new_m, new_v = {}, {}, {}
    for k, p in params.items():
        g = grads[k]
        m = b1 * state["m"][k] + (1 - b1) * g
        v = b2 * state["v"][k] + (1 - b2) * g * g
        new_params[k] = p - lr * (m / correction1) / ((v / correction2).sqrt() + eps)
        new_m[k], new_v[k] = m, v
    return new_params, {"m": new_m, "v": new_v, "step": step}


def clip_grad_norm(grads: Tensors, max_norm: float) -> tuple[Tensors, torch.Tensor]:
    """Scale all gradients so their joint L2 norm is at most ``max_norm``; returns (grads, norm)."""
    norm = torch.sqrt(sum((g * g).sum() for g in grads.values()))
    scale = torch.clamp(max_norm / (norm + 1e-6), max=1.0)
    return {k: g * scale for k, g in grads.items()}, norm


def clip_and_adam_(
    params: list[torch.Tensor], grads: list[torch.Tensor], state: dict, keys: list[str], lr: torch.Tensor,
    max_norm: float, betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
) -> torch.Tensor:
    """:func:`clip_grad_norm` then :func:`adam_step`, in place: ``params`` (the model's own tensors,
    detached), ``grads`` and the moments ``state["m"][k]``, ``state["v"][k]`` for ``k`` in ``keys`` are
    overwritten; ``state["step"]`` is advanced. Returns the gradient norm before clipping.

    For updates that run eagerly (recurrent PPO): a handful of multi-tensor kernels (``_foreach_*`` and
    PyTorch's fused Adam, the kernel behind ``torch.optim.Adam(fused=True)``) instead of a compiled
    graph whose guard checks and output copies cost more than its maths at these sizes.
    Why not the public ``clip_grad_norm_(foreach=True)`` + ``torch.optim.Adam(fused=True).step()``: the same
    kernels behind ~170 us more Python per step (timed on recurrent PPO's CartPole parameter set, one
    thread, 2026-11-30: 130 us here against 300 us); an update runs ~80 of them.
    """
    norm = torch.linalg.vector_norm(torch.stack(torch._foreach_norm(grads)))
    torch._foreach_mul_(grads, torch.clamp(max_norm / (norm + 1e-6), max=1.0))
    state["step"] = state["step"] + 1
    # The fused kernel reads each parameter's step (it does not advance it): one shared tensor serves all.
    torch._fused_adam_(params, grads, [state["m"][k] for k in keys], [state["v"][k] for k in keys], [],
                       [state["step"]] * len(params), lr=lr, beta1=betas[0], beta2=betas[1], weight_decay=0.0,
                       eps=eps, amsgrad=False, maximize=False)
    return norm
