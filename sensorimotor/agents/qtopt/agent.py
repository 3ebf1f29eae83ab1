"""QT-Opt on the off-policy runner (Kalashnikov et al. 2018).

One update, for a batch of transitions ``(s, a, r, s', terminated)`` with actions in [-1, 1]:

    a*  = CEM argmax_a' Q1'(s', a')                      (Q1': Polyak-averaged target network)
    v   = min(sigmoid Q1'(s', a*), sigmoid Q2'(s', a*))  (Q2': a copy of Q1' at most target_lag updates old)
    y   = clamp(r - step_penalty + gamma (1 - terminated) v, 0, 1)
    L   = mean BCE(sigmoid Q(s, a), y)                   (Adam step on Q)
    Q1' <- (1 - tau) Q1' + tau Q;   every target_lag updates Q2' <- Q1'

The CEM runs over the whole batch at once: each of its iterations is one call of the network's
action head on ``[B, cem_samples]`` actions, the images encoded once per network. Acting is the same
CEM on the online network; exploration replaces an ``epsilon`` share of actions by uniform ones.
"""

from __future__ import annotations

import copy
import math
import os
from typing import Any

import gymnasium as gym
import numpy as np
import torch
import torch.nn.functional as F

from sensorimotor.agents.base import Memoryless
from sensorimotor.agents.buffers.episode_streams import DictTransitionBatch, MixedReplay
from sensorimotor.agents.qtopt.cem import cem_argmax, cem_noise, snap_binary
from sensorimotor.agents.qtopt.config import QTOptConfig
from sensorimotor.envs import make_vec
from sensorimotor.errors import UserError, check
from sensorimotor.policies.models.grasp_q import GraspQNetwork
from sensorimotor.utils import datasets


def make_env(env_id: str, config: QTOptConfig, num_envs: int | None = None, backend: str | None = None,
             render_mode: str | None = None, training: bool = True, env_options: dict | None = None):
    """The raw task: actions already in [-1, 1], observations read as they come."""
    kwargs = {**(env_options or {}), **({"render_mode": render_mode} if render_mode else {})}
    return make_vec(env_id, num_envs or config.num_envs, backend=backend, device=config.device, **kwargs)


def observation_parts(space: gym.spaces.Dict) -> dict[str, tuple[tuple[int, ...], torch.dtype]]:
    """``{key: (shape, dtype)}`` of the ``pixels`` and ``state`` parts QT-Opt reads."""
    return {"pixels": (tuple(space["pixels"].shape), torch.uint8), "state": (tuple(space["state"].shape), torch.float32)}


class QTOpt(Memoryless):
    """Args:
        config: the algorithm's settings.
        observation_space: a ``Dict`` with ``pixels`` (uint8 ``[C, H, W]``) and ``state`` (float ``[D]``).
        action_space: a ``Box`` in [-1, 1]^A.
    """

    acting_weight_prefixes = ("q.",)  # what Ray collectors act with (CEM over the online Q), no targets

    name = "qtopt"

    def __init__(self, config: QTOptConfig, observation_space: gym.Space, action_space: gym.Space):
        check(isinstance(observation_space, gym.spaces.Dict) and {"pixels", "state"} <= set(observation_space.spaces)
              and len(observation_space["pixels"].shape) == 3 and observation_space["pixels"].dtype == np.uint8
              and len(observation_space["state"].shape) == 1,
              f"qtopt reads a Dict of uint8 'pixels' [C, H, W] and a 'state' vector (the grasping tasks), got "
              f"{observation_space}.")
        check(isinstance(action_space, gym.spaces.Box) and len(action_space.shape) == 1
              and bool(np.all(action_space.low == -1.0)) and bool(np.all(action_space.high == 1.0)),
              f"qtopt acts in [-1, 1]^A (the grasping tasks' actions), got {action_space}.")
        check(min(observation_space["pixels"].shape[1:]) >= 24,
              f"qtopt's convolutions need images of at least 24x24, got {observation_space['pixels'].shape[1:]}.")
        config.validate()
        self.action_dim = int(action_space.shape[0])
        check(all(i < self.action_dim for i in config.binary_actions),
              f"qtopt.binary_actions {config.binary_actions} name components beyond the {self.action_dim} of this "
              "task's action: use --preset grasp-auto (none) for the auto-grasp tasks.")
        self.config, self.device = config, torch.device(config.device)
        self.parts = observation_parts(observation_space)
        self.q = GraspQNetwork(self.parts["pixels"][0], self.parts["state"][0][0], self.action_dim,
                               fusion=config.fusion, hidden=config.hidden).to(self.device)
        self.target1 = copy.deepcopy(self.q).requires_grad_(False)
        self.target2 = copy.deepcopy(self.q).requires_grad_(False)
        self.optimizer = torch.optim.Adam(self.q.parameters(), lr=config.learning_rate)
        mask = torch.zeros(self.action_dim, dtype=torch.bool)
        mask[list(config.binary_actions)] = True
        self.binary_mask = mask.to(self.device) if config.binary_actions else None
        self.updates = 0
        self.has_offline_data = bool(config.dataset)
        # The greedy policy's CEM draws, fixed once (seed 0) and shared by every state: a deterministic
        # policy that evaluation, the Python API and the exported graph compute alike.
        generator = torch.Generator().manual_seed(0)
        self.fixed_noise = tuple(t.to(self.device) for t in cem_noise(1, self.action_dim, config.cem, generator))

    # -- acting -------------------------------------------------------------------------------------
    def _obs(self, obs: dict[str, torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
        return obs["pixels"].to(self.device), obs["state"].to(self.device, torch.float32)

    @torch.inference_mode()
    def greedy(self, network: GraspQNetwork, pixels: torch.Tensor, state: torch.Tensor, fixed: bool = False
               ) -> tuple[torch.Tensor, torch.Tensor]:
        """CEM argmax of ``network`` for a batch: ``(actions [B, A], logits [B])``; ``fixed``: with the
        fixed draws (deterministic), else fresh ones."""
        features = network.encode(pixels, state)
        return cem_argmax(lambda a: network.score(features, a), pixels.shape[0], self.action_dim, self.config.cem,
                          self.binary_mask, device=self.device, noise=self.fixed_noise if fixed else None)

    def predict(self, obs: dict[str, torch.Tensor], deterministic: bool = True) -> torch.Tensor:
        """``obs {pixels [N, C, H, W], state [N, D]}`` -> actions ``[N, A]``: the CEM's argmax, with the
        fixed draws when ``deterministic`` (what evaluation and export do), fresh ones otherwise."""
        return self.greedy(self.q, *self._obs(obs), fixed=deterministic)[0]

    def explore(self, obs: dict[str, torch.Tensor], step: int) -> torch.Tensor:
        """Uniform actions before ``learning_starts`` (without offline data), then epsilon-greedy CEM."""
        n = obs["pixels"].shape[0]
        uniform = snap_binary(torch.rand(n, self.action_dim, device=self.device) * 2 - 1, self.binary_mask)
        if step < self.config.learning_starts and not self.has_offline_data:
            return uniform
        greedy = self.predict(obs, deterministic=False)
        explore = torch.rand(n, device=self.device) < self.config.epsilon
        return torch.where(explore[:, None], uniform, greedy)

    # -- learning -----------------------------------------------------------------------------------
    def make_replay(self, env) -> MixedReplay:
        c = self.config
        replay = MixedReplay(c.buffer_size, env.num_envs, self.parts, self.action_dim, c.online_fraction)
        if c.dataset:
            episodes, slots = load_datasets(c.dataset, c.dataset_episodes, self.parts, self.action_dim)
            replay.load_offline(episodes, slots)
            check(len(replay.offline) > 0, f"qtopt.dataset {', '.join(c.dataset)} holds no whole episode: collect "
                  "some first (sensorimotor collect).")
        return replay

    def offline_updates_left(self) -> int:
        """Gradient steps still owed to the offline phase (a resumed run counts the ones done)."""
        return max(self.config.offline_updates - self.updates, 0)

    def stored_reward(self, reward: torch.Tensor) -> torch.Tensor:
        return reward

    def schedule(self, step: int) -> dict[str, float]:
        return {"epsilon": self.config.epsilon}

    def update(self, replay: MixedReplay, step: int) -> dict[str, torch.Tensor]:
        return self.train_batch(replay.sample(self.config.batch_size))

    def bellman_targets(self, batch: DictTransitionBatch) -> tuple[torch.Tensor, torch.Tensor]:
        """``(y [B], v [B])``: the clipped double-Q target of the module docstring and the value of ``s'``."""
        c = self.config
        pixels, state = self._obs(batch.next_obs)
        with torch.inference_mode():
            best, logit1 = self.greedy(self.target1, pixels, state)
            logit2 = self.target2(pixels, state, best)
            value = torch.minimum(torch.sigmoid(logit1), torch.sigmoid(logit2))
            reward = batch.reward.to(self.device) - c.step_penalty
            alive = (~batch.terminated.to(self.device)).float()
            y = (reward + c.gamma * alive * value).clamp(0.0, 1.0)
        return y.clone(), value.clone()

    def train_batch(self, batch: DictTransitionBatch) -> dict[str, torch.Tensor]:
        """One gradient step on ``batch``; metrics stay on the device."""
        if self.config.augment_shift:
            shift = self.config.augment_shift
            batch = batch._replace(obs={**batch.obs, "pixels": random_shift(batch.obs["pixels"], shift)},
                                   next_obs={**batch.next_obs, "pixels": random_shift(batch.next_obs["pixels"], shift)})
        y, value = self.bellman_targets(batch)
        pixels, state = self._obs(batch.obs)
        logits = self.q(pixels, state, batch.action.to(self.device))
        loss = F.binary_cross_entropy_with_logits(logits, y)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.optimizer.step()
        self.updates += 1
        with torch.no_grad():
            for target, online in zip(self.target1.parameters(), self.q.parameters()):
                target.lerp_(online, self.config.tau)
            if self.updates % self.config.target_lag == 0:
                self.target2.load_state_dict(self.target1.state_dict())
        return {"loss": loss.detach(), "q": torch.sigmoid(logits.detach()).mean(), "target": y.mean(),
                "next_value": value.mean()}

    # -- checkpoints and export ---------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        weights = {f"{name}.{k}": v for name, net in (("q", self.q), ("target1", self.target1), ("target2", self.target2))
                   for k, v in net.state_dict().items()}
        return {"weights": {k: v.detach().contiguous() for k, v in weights.items()},
                "optimizer": self.optimizer.state_dict(), "updates": self.updates}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        weights = state["weights"]
        try:
            for prefix, net in (("q.", self.q), ("target1.", self.target1), ("target2.", self.target2)):
                net.load_state_dict({k[len(prefix):]: v for k, v in weights.items() if k.startswith(prefix)})
        except RuntimeError as exc:
            raise UserError(f"checkpoint weights do not fit this QT-Opt ({str(exc).strip().splitlines()[0]}); was it "
                            "trained on another task or with another --qtopt.fusion / --qtopt.hidden?") from None
        if "optimizer" in state:
            self.optimizer.load_state_dict(state["optimizer"])
        self.updates = int(state.get("updates", 0))

    def export_module(self) -> torch.nn.Module:
        from sensorimotor.agents.qtopt.export import CEMPolicy

        return CEMPolicy(self.q, self.config.cem, self.fixed_noise, self.binary_mask)


def random_shift(pixels: torch.Tensor, pad: int, generator: torch.Generator | None = None) -> torch.Tensor:
    """``pixels [B, C, H, W]`` each moved by its own integer offset in [-pad, pad] along both axes, the
    border replicated (so the image keeps its size and no black frame appears)."""
    b, _, h, w = pixels.shape
    padded = F.pad(pixels.float(), (pad, pad, pad, pad), mode="replicate")
    dy, dx = (torch.randint(0, 2 * pad + 1, (2, b), generator=generator, device=pixels.device))
    rows = (dy[:, None] + torch.arange(h, device=pixels.device))[:, None, :, None]  # [B, 1, H, 1]
    cols = (dx[:, None] + torch.arange(w, device=pixels.device))[:, None, None, :]  # [B, 1, 1, W]
    batch = torch.arange(b, device=pixels.device)[:, None, None, None]
    channels = torch.arange(pixels.shape[1], device=pixels.device)[None, :, None, None]
    return padded[batch, channels, rows, cols].to(pixels.dtype)


def load_datasets(folders: tuple[str, ...], episodes: int, parts: dict, action_dim: int):
    """``(episode iterator, slot bound)`` over ``folders``: every whole episode, or ``episodes`` in all in
    equal shares. Each folder must be an episode dataset whose observations match ``parts``."""
    for folder in folders:
        check(os.path.isdir(folder), f"qtopt.dataset {folder} does not exist: collect it first "
              "(sensorimotor collect --env KukaGraspAuto-v0 --out DIR).")
        datasets.read_manifest(folder)  # one line for a folder that is no dataset
        check(bool(datasets.part_files(folder)), f"qtopt.dataset {folder} is empty (no part-*.smrec files).")
    share = [episodes // len(folders) + (i < episodes % len(folders)) for i in range(len(folders))] if episodes else None
    slot_bytes = sum(math.prod(shape) * torch.empty((), dtype=dtype).element_size() for shape, dtype in parts.values())
    # Every step record holds its observation, so a file's bytes bound its steps plus episodes.
    slots = sum(os.path.getsize(p) for f in folders for p in datasets.part_files(f)) // slot_bytes + 1
    if share is not None:
        slots = min(slots, sum(share) * 101)  # at most 100 steps per episode (the tasks' bound)

    def episodes_of_all():
        for folder, limit in zip(folders, share or [None] * len(folders)):
            taken = 0
            for episode in datasets.read_episodes(folder):
                if limit is not None and taken >= limit:
                    break
                _check_episode(folder, episode, parts, action_dim)
                taken += 1
                yield episode

    return episodes_of_all(), slots


def _check_episode(folder: str, episode: dict, parts: dict, action_dim: int) -> None:
    obs = episode["obs"]
    have = {k: tuple(np.asarray(v).shape[1:]) for k, v in obs.items()} if isinstance(obs, dict) else {}
    want = {k: shape for k, (shape, _) in parts.items()}
    if any(have.get(k) != shape for k, shape in want.items()) or episode["action"].shape[-1] != action_dim:
        raise UserError(f"qtopt.dataset {folder} was collected on another task (observations {have}, "
                        f"{episode['action'].shape[-1]} action components; this run's: {want}, {action_dim}).")
