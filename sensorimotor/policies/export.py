"""Deployable policies: preprocessing, the actor and action bounds in one graph, saved as ONNX and
TorchScript with a JSON manifest.

The exported graph takes the raw observation (the env's units; uint8 ``[N, C, H, W]`` for pixels) and
returns the action to apply: ``obs [N, obs_dim] -> action [N, A]`` (float32, clamped to the action bounds) or ``[N]`` (int64, for
discrete actions). A recurrent policy also takes and returns its memory explicitly:
``(obs [N, obs_dim], state [N, S]) -> (action, next_state [N, S])``; the caller feeds zeros at an
episode start. A policy trained on a stack of ``k`` frames may carry the stack the same way: it then
takes one frame and its state is the ``k - 1`` frames before it,
``(frame [N, c, H, W], state [N, (k - 1) c, H, W]) -> (action, next_state)``, zeros at an episode start
(as the training envs pad). The deploy side needs only onnxruntime (or torch for TorchScript).
"""

from __future__ import annotations

import inspect
import json
import os
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn


@dataclass
class ActorGraph:
    """What a model contributes to its deployable graph; each model says it in ``export_actor()``.

    Attributes:
        actor: feed-forward: the (normalized) observation -> action parameters: means or bounded actions
            (``continuous``, clamped to the bounds in the graph), or one score per discrete action
            (argmax in the graph). Recurrent: the head after the core.
        continuous: Box actions (else discrete).
        core: the recurrent core (its ``step(x, state)``), or None for feed-forward models.
        encoder: recurrent pixel models: the encoder before the core (None otherwise).
    """

    actor: nn.Module
    continuous: bool
    core: nn.Module | None = None
    encoder: nn.Module | None = None


class ExportedPolicy(nn.Module):
    """The acting path of a trained actor-critic, deterministic, with preprocessing inside.

    Args:
        model: any model with ``export_actor() -> ActorGraph`` (actor-critics keep only the actor; a
            ``QNetwork`` exports its greedy action, the argmax of its Q-values).
        obs_mean, obs_var: ``[obs_dim]`` normalizer statistics, or None when the run did not normalize.
        obs_clip, obs_eps: the normalizer's clip and epsilon.
        action_low, action_high: ``[A]`` bounds of a continuous action, or None for discrete actions.
        camera: for pixel policies, ``(frame_shape, (height, width))`` with ``frame_shape`` one trained
            frame ``(c, h, w)``: the graph then takes camera frames ``uint8 [N, height, width, 3]`` (RGB,
            channels last) and converts them inside (grayscale when the policy was trained on one
            channel, bilinear resize to the trained size).
        frame_stack: ``k`` > 1 to stack frames inside the graph (the model was trained on ``k`` frames
            of ``c`` channels each, oldest first); the graph takes one frame and carries the others as
            its state, float32 ``[N, (k - 1) c, h, w]`` in 0-255.
        action_tail: constants appended to every (continuous) action, e.g. a cruise throttle after a
            steering-only policy's steering, so the graph commands a robot with more joints.
    """

    def __init__(self, model: nn.Module, obs_mean=None, obs_var=None, obs_clip: float = 10.0,
                 obs_eps: float = 1e-8, action_low=None, action_high=None, camera=None,
                 frame_stack: int | None = None, action_tail=()):
        super().__init__()
        self.camera = camera is not None
        if self.camera:
            (channels, height, width), self.camera_hw = camera
            self.trained_hw = (height, width)
            self.gray = channels == 1
            # ITU-R BT.601 luma, as OpenCV's RGB2GRAY.
            self.register_buffer("luma", torch.tensor([0.299, 0.587, 0.114]).view(1, 3, 1, 1))
        graph: ActorGraph = model.export_actor()
        self.recurrent = graph.core is not None
        self.frame_stack = int(frame_stack or 1)
        if self.frame_stack > 1 and self.recurrent:
            raise ValueError("a recurrent policy carries its memory in its core; it has no frame stack to carry")
        self.continuous = graph.continuous
        if self.recurrent:
            self.encoder = graph.encoder  # None for flat observations
            self.core, self.head = graph.core, graph.actor
            self.state_size = graph.core.state_size
        else:
            self.actor = graph.actor
            self.state_size = 0
        self.normalize = obs_mean is not None
        if self.normalize:
            self.register_buffer("obs_mean", torch.as_tensor(obs_mean, dtype=torch.float32))
            self.register_buffer("obs_std", torch.sqrt(torch.as_tensor(obs_var, dtype=torch.float64) + obs_eps).float())
        self.obs_clip = float(obs_clip)
        if self.continuous:
            self.register_buffer("action_low", torch.as_tensor(action_low, dtype=torch.float32))
            self.register_buffer("action_high", torch.as_tensor(action_high, dtype=torch.float32))
        if len(action_tail) and not self.continuous:
            raise ValueError("action_tail is for continuous actions")
        self.register_buffer("action_tail", torch.as_tensor(list(action_tail), dtype=torch.float32))

    def forward(self, obs: torch.Tensor, state: torch.Tensor | None = None):
        x = obs.to(torch.float32)
        if self.camera:
            x = self._from_camera(x)
        if self.normalize:
            x = ((x - self.obs_mean) / self.obs_std).clamp(-self.obs_clip, self.obs_clip)
        if self.recurrent:
            if self.encoder is not None:
                x = self.encoder(x)
            out, next_state = self.core.step(x, state)
            return self._action(self.head(out)), next_state
        if self.frame_stack > 1:
            stack = torch.cat([state, x], dim=1)  # oldest first, the new frame last, as in training
            return self._action(self.actor(stack)), stack[:, x.shape[1]:]
        return self._action(self.actor(x))

    def _from_camera(self, frames: torch.Tensor) -> torch.Tensor:
        """``[N, H, W, 3]`` 0-255 -> ``[N, C, h, w]`` 0-255 at the trained size."""
        x = frames.permute(0, 3, 1, 2)
        if self.gray:
            x = (x * self.luma).sum(1, keepdim=True)
        if tuple(self.camera_hw) != tuple(self.trained_hw):
            x = nn.functional.interpolate(x, size=self.trained_hw, mode="bilinear", align_corners=False)
        return x

    def _action(self, params: torch.Tensor) -> torch.Tensor:
        if not self.continuous:
            return params.argmax(-1)
        action = torch.maximum(torch.minimum(params, self.action_high), self.action_low)
        if self.action_tail.numel():
            action = torch.cat([action, self.action_tail.expand(action.shape[0], -1)], dim=1)
        return action

    @property
    def stateful(self) -> bool:
        """The graph takes a state and returns the next one (a recurrent core or a frame stack)."""
        return self.recurrent or self.frame_stack > 1

    def state_shape(self, frame_shape: tuple[int, ...]) -> tuple[int, ...]:
        """One env's state: ``(S,)`` for a recurrent core, ``((k - 1) c, h, w)`` for a frame stack of
        frames ``frame_shape = (c, h, w)`` (as the model sees them, after any camera conversion)."""
        if self.recurrent:
            return (self.state_size,)
        channels, *hw = frame_shape
        return ((self.frame_stack - 1) * channels, *hw)

    def example_inputs(self, obs_shape: tuple[int, ...], batch: int = 1, dtype=torch.float32,
                       frame_shape: tuple[int, ...] | None = None) -> tuple[torch.Tensor, ...]:
        """``obs_shape``: what the graph takes per env; ``frame_shape``: one frame as the model sees it
        (needed for a frame stack)."""
        obs = torch.zeros(batch, *obs_shape, dtype=dtype)
        if not self.stateful:
            return (obs,)
        return obs, torch.zeros(batch, *self.state_shape(frame_shape or obs_shape))

    @property
    def input_names(self) -> list[str]:
        return ["obs", "state"] if self.stateful else ["obs"]

    @property
    def output_names(self) -> list[str]:
        return ["action", "next_state"] if self.stateful else ["action"]


def save_torchscript(policy: ExportedPolicy, path: str, example_inputs: tuple[torch.Tensor, ...]) -> str:
    traced = torch.jit.trace(policy.eval(), example_inputs)
    traced.save(path)
    return path


def save_onnx(policy: ExportedPolicy, path: str, example_inputs: tuple[torch.Tensor, ...]) -> str:
    """ONNX with a dynamic batch dimension (needs the ``onnx`` extra: onnx, onnxscript)."""
    try:
        import onnx  # noqa: F401
        import onnxscript  # noqa: F401
    except ImportError as exc:
        from sensorimotor.errors import UserError

        raise UserError(f"ONNX export needs the onnx extra: pip install -e '.[onnx]' ({exc.name} is missing).") from None
    batch = torch.export.Dim("batch", min=1, max=4096)
    # torch.export keys dynamic shapes by forward()'s parameter names, which may differ from the
    # graph's input names (a multi-input actor's part0, part1... are obs_pixels, obs_state).
    arguments = list(inspect.signature(policy.forward).parameters)[:len(policy.input_names)]
    dynamic = {name: {0: batch} for name in arguments}
    program = torch.onnx.export(policy.eval(), example_inputs, input_names=policy.input_names,
                                output_names=policy.output_names, dynamic_shapes=dynamic, dynamo=True,
                                external_data=False)
    program.save(path)
    return path


def write_manifest(path: str, manifest: dict[str, Any]) -> str:
    tmp = f"{path}.tmp"
    with open(tmp, "w") as f:
        json.dump(manifest, f, indent=2)
    os.replace(tmp, path)
    return path
