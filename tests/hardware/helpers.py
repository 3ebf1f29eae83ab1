"""A tiny exported policy for the MockRobot: ONNX + manifest, as `sensorimotor export` writes them."""

import os

import torch
from torch import nn

from sensorimotor.policies.export import save_onnx, write_manifest


class TowardsPose(nn.Module):
    """obs (joint positions [2] or an image [3, H, W]) -> a small step towards a fixed pose."""

    input_names, output_names = ["obs"], ["action"]

    def __init__(self, pixels: bool):
        super().__init__()
        self.pixels = pixels
        self.register_buffer("target", torch.tensor([0.4, -0.3]))

    def forward(self, obs):
        if self.pixels:  # depends on the image so the graph keeps its input
            return self.target.expand(obs.shape[0], 2) + 0.0 * obs.float().mean(dim=(1, 2, 3), keepdim=False)[:, None]
        return obs + (self.target - obs).clamp(-0.02, 0.02)


def export_mock_policy(folder: str, spec_hash: str, pixels: bool = False) -> str:
    os.makedirs(folder, exist_ok=True)
    shape, dtype = ((3, 16, 16), torch.uint8) if pixels else ((2,), torch.float32)
    save_onnx(TowardsPose(pixels).eval(), os.path.join(folder, "policy.onnx"), (torch.zeros(1, *shape, dtype=dtype),))
    write_manifest(os.path.join(folder, "manifest.json"), {
        "files": {"onnx": "policy.onnx"}, "robot_spec_hash": spec_hash,
        "inputs": {"obs": {"shape": ["batch", *shape], "dtype": str(dtype).replace("torch.", "")}},
        "outputs": {"action": {"shape": ["batch", 2], "dtype": "float32"}}})
    return folder
