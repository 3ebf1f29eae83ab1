"""Records frames of env 0 into MP4 files, one per episode, with imageio-ffmpeg.

Gymnasium's RecordVideo pulls in moviepy; writing the frames ourselves needs only ffmpeg.
"""

from __future__ import annotations

import os

import imageio.v2 as imageio
import numpy as np

from sensorimotor.envs.wrappers.base import VecEnvWrapper


def write_mp4(path: str, frames: list[np.ndarray], fps: int) -> str:
    """Write ``frames`` (each ``[H, W, 3]`` uint8) to ``path`` as H.264 MP4; returns ``path``."""
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with imageio.get_writer(path, fps=fps, codec="libx264", quality=7, macro_block_size=1) as writer:
        for frame in frames:
            writer.append_data(frame)
    return path


class RecordVideo(VecEnvWrapper):
    """Renders env 0 after every step and writes ``<folder>/<prefix>-episode-<k>.mp4`` when its
    episode ends. At most ``max_episodes`` videos are written."""

    def __init__(self, env, folder: str, prefix: str = "eval", max_episodes: int = 1):
        super().__init__(env)
        self.folder, self.prefix, self.max_episodes = folder, prefix, max_episodes
        self.paths: list[str] = []
        self._frames: list[np.ndarray] = []

    def reset(self, seed: int | None = None):
        obs = self.env.reset(seed=seed)
        self._frames = [self.env.render()] if self._recording else []
        return obs

    @property
    def _recording(self) -> bool:
        return len(self.paths) < self.max_episodes

    def step(self, actions):
        result = self.env.step(actions)
        terminated, truncated = result[2], result[3]
        if self._recording:
            done = bool(terminated[0] or truncated[0])
            if not done:
                self._frames.append(self.env.render())
            else:
                path = os.path.join(self.folder, f"{self.prefix}-episode-{len(self.paths)}.mp4")
                self.paths.append(write_mp4(path, self._frames, self.metadata.get("render_fps", 30)))
                self._frames = [self.env.render()] if self._recording else []
        return result
