"""Behaviour cloning of an expert's actions with PilotNet; the learner DAgger lets drive.

One update: ``loss = mean ||PilotNet(obs) - expert_action||^2`` over a minibatch of the aggregate
(Adam). Acting clamps the network's output to the action bounds. DAgger's mixture policy (Ross et
al. 2011, algorithm 3.1): each env, each step, takes the expert's action with probability beta and
the learner's otherwise; every visited state is labelled with the expert's action either way.
"""

from __future__ import annotations

import copy
from typing import Any

import gymnasium as gym
import numpy as np
import torch

from sensorimotor.agents.base import Memoryless
from sensorimotor.agents.bc.config import BCConfig
from sensorimotor.agents.buffers.labelled_frames import LabelledFrames
from sensorimotor.envs import make_vec
from sensorimotor.errors import UserError, check
from sensorimotor.policies.models.pilotnet import PilotNet
from sensorimotor.utils import datasets

EXPERT_KEY = "expert_action"  # the info key that labels the returned observation (DriveEnv)


def make_env(env_id: str, config: BCConfig, num_envs: int | None = None, backend: str | None = None,
             render_mode: str | None = None, training: bool = True, env_options: dict | None = None):
    """The raw task. Training needs an env whose info labels each observation with the expert's action
    (``metadata["observation_info_keys"]`` holds ``expert_action``) and, with ``dataset``, a dataset
    collected on the same task."""
    kwargs = {**(env_options or {}), **({"render_mode": render_mode} if render_mode else {})}
    env = make_vec(env_id, num_envs or config.num_envs, backend=backend, device=config.device, **kwargs)
    if training:
        try:
            check(EXPERT_KEY in env.metadata.get("observation_info_keys", ()),
                  f"{env_id} has no expert to label the states it visits (its info carries no {EXPERT_KEY}): "
                  "behaviour cloning and DAgger need one, e.g. RacecarDrive-v0.")
            if config.dataset is not None:
                check_dataset(config.dataset, env_id)
        except UserError:
            env.close()
            raise
    return env


def check_dataset(folder: str, env_id: str) -> int:
    """Complete episodes in ``folder``; a :class:`UserError` if it is missing, foreign or empty."""
    manifest = datasets.read_manifest(folder)
    check(manifest.get("env") == env_id,
          f"{folder} was collected on {manifest.get('env')}, not {env_id}: collect one with "
          f"`sensorimotor collect --env {env_id} --out DIR`.")
    check(manifest.get("policy") == "expert", f"{folder} holds {manifest.get('policy')} actions, not an expert's: "
          "behaviour cloning needs `--policy expert`.")
    episodes = len(datasets.complete_episodes(folder))
    check(episodes > 0, f"{folder} holds no complete episode (empty, or its collection was killed in the first "
          "one): run the collection again to finish it.")
    return episodes


def load_demonstrations(folder: str, limit: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Up to ``limit`` labelled frames of ``folder``, augmented views included, in file order:
    ``(obs [K, C, H, W] uint8, actions [K, A] float32)``."""
    obs, actions, count = [], [], 0
    for episode in datasets.read_episodes(folder):
        parts = [(episode["obs"], episode["action"])]
        if "augmented" in episode:  # [T, V, ...] views from shifted cameras, labelled by the expert
            views = episode["augmented"]
            parts.append((views["obs"].reshape(-1, *views["obs"].shape[2:]),
                          views["action"].reshape(-1, views["action"].shape[-1])))
        for o, a in parts:
            take = min(len(o), limit - count)
            obs.append(o[:take])
            actions.append(a[:take])
            count += take
        if count >= limit:
            break
    return torch.from_numpy(np.concatenate(obs)), torch.from_numpy(np.concatenate(actions).astype(np.float32))


class BehaviorCloning(Memoryless):
    """Args:
        config: the algorithm's settings.
        observation_space: a single env's ``Box`` of uint8 images ``[3, H, W]``.
        action_space: a single env's bounded ``Box`` of actions ``[A]``.
    """

    name = "bc"

    def __init__(self, config: BCConfig, observation_space: gym.Space, action_space: gym.Space):
        check(isinstance(observation_space, gym.spaces.Box) and len(observation_space.shape) == 3
              and observation_space.dtype == np.uint8,
              f"bc learns from uint8 camera images [C, H, W], got {observation_space}.")
        check(isinstance(action_space, gym.spaces.Box) and len(action_space.shape) == 1,
              f"bc regresses continuous actions, got {action_space}.")
        config.validate()
        self.config = config
        self.device = torch.device(config.device)
        self.model = PilotNet(tuple(observation_space.shape), outputs=int(action_space.shape[0])).to(self.device)
        # NHWC convolutions are 1.6x faster on the CPU's oneDNN kernels (256 frames of 66x200: 0.41 s
        # against 0.66 s per update); export converts back (torch.export cannot trace the layout change).
        self.channels_last = self.device.type == "cpu"
        if self.channels_last:
            self.model.to(memory_format=torch.channels_last)
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=config.learning_rate,
                                          weight_decay=config.weight_decay)
        self.low = torch.as_tensor(action_space.low, dtype=torch.float32, device=self.device)
        self.high = torch.as_tensor(action_space.high, dtype=torch.float32, device=self.device)
        self.iteration = 0  # finished iterations (0: nothing learnt yet)
        self.updates = 0

    def _forward(self, obs: torch.Tensor) -> torch.Tensor:
        x = obs.to(self.device)
        if self.channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        return self.model(x)

    def predict(self, obs: torch.Tensor, deterministic: bool = True) -> torch.Tensor:
        """``obs [N, C, H, W]`` uint8 -> actions ``[N, A]`` within the bounds."""
        with torch.inference_mode():
            return torch.maximum(torch.minimum(self._forward(obs), self.high), self.low)

    def mixture(self, learner: torch.Tensor, expert: torch.Tensor, beta: float,
                generator: torch.Generator) -> torch.Tensor:
        """DAgger's mixture policy: per env, ``expert [N, A]`` with probability ``beta``, else ``learner``."""
        use_expert = torch.rand(learner.shape[0], generator=generator) < beta
        return torch.where(use_expert.to(learner.device)[:, None], expert.to(learner.device), learner)

    def fit(self, data: LabelledFrames, generator: torch.Generator) -> dict[str, float]:
        """``epochs`` passes over ``data`` in random minibatches; the mean loss of the last pass."""
        obs, labels, _ = data.tensors()
        c, losses = self.config, []
        self.model.train()
        for _ in range(c.epochs):
            order = torch.randperm(len(obs), generator=generator)
            losses = []
            for start in range(0, len(obs), c.batch_size):
                rows = order[start:start + c.batch_size]
                loss = torch.nn.functional.mse_loss(self._forward(obs[rows]), labels[rows].to(self.device))
                self.optimizer.zero_grad(set_to_none=True)
                loss.backward()
                self.optimizer.step()
                losses.append(loss.detach())
                self.updates += 1
        self.model.eval()
        return {"loss": float(torch.stack(losses).mean()), "updates": self.updates}

    def state_dict(self) -> dict[str, Any]:
        weights = {k: v.detach().contiguous() for k, v in self.model.state_dict().items()}
        return {"weights": weights, "optimizer": self.optimizer.state_dict(), "iteration": self.iteration,
                "updates": self.updates}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        try:
            self.model.load_state_dict(state["weights"])
        except RuntimeError as exc:
            raise UserError(f"checkpoint weights do not fit this PilotNet ({str(exc).strip().splitlines()[0]}); "
                            "was it trained on another camera size?") from None
        if self.channels_last:
            self.model.to(memory_format=torch.channels_last)
        if "optimizer" in state:
            self.optimizer.load_state_dict(state["optimizer"])
            self.iteration, self.updates = int(state["iteration"]), int(state["updates"])

    def export_module(self) -> torch.nn.Module:
        """PilotNet in NCHW (the export clamps its output to the action bounds)."""
        module = copy.deepcopy(self.model).to(memory_format=torch.contiguous_format)
        return module.eval()
