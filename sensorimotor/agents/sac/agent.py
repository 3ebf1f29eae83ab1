"""Soft Actor-Critic on the off-policy runner.

One update, for a batch of transitions ``(s, a, r, s', terminated)`` with ``a`` in the actor's [-1, 1]
units and ``alpha = exp(log_alpha)``::

    a' ~ pi(s'),      y = r + gamma (1 - terminated) (min_i Q'_i(s', a') - alpha log pi(a'|s'))
    critics:          L_Q  = 0.5 sum_i mean (Q_i(s, a) - y)^2             (Adam step on the critics)
    actor:            L_pi = mean (alpha log pi(a~|s) - min_i Q_i(s, a~)),  a~ ~ pi(s), new critics
    temperature:      L_a  = -mean log_alpha (log pi(a~|s) + target_entropy)
    targets:          Q' <- (1 - tau) Q' + tau Q

All of it, with the three Adam steps, is one pure function compiled into one graph (``compile``) that
updates the weights in place: the ~200 small kernels of an update run with no Python between them.
"""

from __future__ import annotations

import copy
import math
import os
from typing import Any

import gymnasium as gym
import numpy as np
import torch
from torch.func import functional_call, grad

from sensorimotor.agents.base import Memoryless
from sensorimotor.agents.buffers.episode_streams import MixedReplay
from sensorimotor.agents.buffers.transitions import TransitionBatch, TransitionReplay
from sensorimotor.agents.optim import adam_init, adam_step
from sensorimotor.agents.sac.config import SACConfig
from sensorimotor.envs import make_vec
from sensorimotor.errors import UserError, check
from sensorimotor.policies.models.multi_input import MultiInputEncoder
from sensorimotor.policies.models.sac_networks import (DeterministicPolicy, EncodedDeterministicPolicy, EncodedTwinQ,
                                                       SquashedGaussianActor, TwinQ, squashed_sample)
from sensorimotor.utils.compile import compile_or_eager
from sensorimotor.utils.threads import SMALL_BATCH, single_threaded

Params = dict[str, torch.Tensor]


def make_env(env_id: str, config: SACConfig, num_envs: int | None = None, backend: str | None = None,
             render_mode: str | None = None, training: bool = True, env_options: dict | None = None):
    """The raw task: SAC squashes its actions into the bounds itself and needs no normalizers."""
    kwargs = {**(env_options or {}), **({"render_mode": render_mode} if render_mode else {})}
    return make_vec(env_id, num_envs or config.num_envs, backend=backend, device=config.device, **kwargs)


class SAC(Memoryless):
    """Args:
        config: the algorithm's settings.
        observation_space: a single env's flat ``Box``, or a ``Dict`` of images and vectors (camera +
            state: a ``MultiInputEncoder`` under the critics, its features detached for the actor).
        action_space: a single env's bounded ``Box``.
    """

    acting_weight_prefixes = ("actor.",)  # what Ray collectors act with (no critics, no targets)

    name = "sac"

    def __init__(self, config: SACConfig, observation_space: gym.Space, action_space: gym.Space):
        check(isinstance(action_space, gym.spaces.Box) and len(action_space.shape) == 1
              and bool(np.all(np.isfinite(action_space.low))) and bool(np.all(np.isfinite(action_space.high))),
              f"SAC needs a bounded continuous action vector, got {action_space}: use dqn or ppo for discrete actions.")
        dict_obs = isinstance(observation_space, gym.spaces.Dict)
        check(dict_obs or len(observation_space.shape) == 1, f"SAC takes flat observations or a Dict of images "
              f"and vectors, got shape {observation_space.shape}: use ppo or dqn for a single image.")
        config.validate()
        self.config = config
        self.device = torch.device(config.device)
        self.observation_space = observation_space
        self.action_dim = int(action_space.shape[0])
        low = torch.as_tensor(action_space.low, dtype=torch.float32, device=self.device)
        high = torch.as_tensor(action_space.high, dtype=torch.float32, device=self.device)
        self.action_scale, self.action_bias = (high - low) / 2, (high + low) / 2
        self.parts = None
        """``{key: (shape, dtype)}`` of a ``Dict`` observation (camera + state), None for flat ones."""
        if dict_obs:  # an encoder under the critics, trained by their loss; the actor reads its features
            self.parts = {k: (tuple(s.shape), torch.uint8 if s.dtype == np.uint8 else torch.float32)
                          for k, s in observation_space.spaces.items()}
            encoder = MultiInputEncoder(observation_space)
            obs_dim = encoder.width
            self.critic = EncodedTwinQ(encoder, self.action_dim, config.hidden).to(self.device)
        else:
            obs_dim = int(observation_space.shape[0])
            self.critic = TwinQ(obs_dim, self.action_dim, config.hidden).to(self.device)
        self.actor = SquashedGaussianActor(obs_dim, self.action_dim, config.hidden).to(self.device)
        self.critic_target = copy.deepcopy(self.critic).requires_grad_(False)
        self.log_alpha = torch.tensor(math.log(config.init_alpha), device=self.device)
        self.target_entropy = float(-self.action_dim if config.target_entropy is None else config.target_entropy)
        # Views of the modules' own storage, built once: the update overwrites them in place.
        self._params = self._param_groups()
        self._targets = {k: p.detach() for k, p in self.critic_target.named_parameters()}
        self.opt_state = {group: adam_init(params) for group, params in self._params.items()}
        self.updates = 0
        step, act = _make_update_step(self, config), self._act_eager
        if config.compile:
            options = {"cpp_wrapper": True}
            step = compile_or_eager(step, fullgraph=True, dynamic=False, options=options)
            act = compile_or_eager(act, fullgraph=True, dynamic=False, options=options)
        self._update_step, self._act = step, act

    def _param_groups(self) -> dict[str, Params]:
        """The tensors each Adam updates (the modules' own storage, detached: updated in place)."""
        return {"actor": {k: p.detach() for k, p in self.actor.named_parameters()},
                "critic": {k: p.detach() for k, p in self.critic.named_parameters()},
                "alpha": {"log_alpha": self.log_alpha}}

    # -- acting -------------------------------------------------------------------------------------
    def _act_eager(self, obs: torch.Tensor, noise: torch.Tensor, deterministic: bool) -> torch.Tensor:
        mean, log_std = self.actor(self.critic.encoder(obs) if self.parts else obs)
        squashed = torch.tanh(mean) if deterministic else squashed_sample(mean, log_std, noise)[0]
        return squashed * self.action_scale + self.action_bias

    @torch.inference_mode()
    def predict(self, obs: torch.Tensor, deterministic: bool = True) -> torch.Tensor:
        """``obs [N, D]`` (or ``{key: [N, ...]}``) ``-> actions [N, A]`` in the env's units (``tanh(mean)``
        when deterministic)."""
        if self.parts:
            obs = {k: obs[k].to(self.device, dtype) for k, (_, dtype) in self.parts.items()}
        else:
            obs = obs.to(self.device, torch.float32)
        n = _batch_size(obs)
        noise = torch.randn(n, self.action_dim, device=self.device)
        with single_threaded(self.device.type == "cpu" and n <= SMALL_BATCH):
            return self._act(obs, noise, deterministic)

    def explore(self, obs: torch.Tensor, step: int) -> torch.Tensor:
        """Uniform actions for the first ``learning_starts`` steps, then samples of the policy."""
        if step < self.config.learning_starts:
            uniform = torch.rand(_batch_size(obs), self.action_dim, device=self.device) * 2 - 1
            return uniform * self.action_scale + self.action_bias
        return self.predict(obs, deterministic=False)

    # -- learning -----------------------------------------------------------------------------------
    def make_replay(self, env) -> TransitionReplay | MixedReplay:
        if self.parts:  # each observation stored once, pixels as uint8 (the replay QT-Opt uses, online only)
            per_step = sum(int(np.prod(shape)) * dtype.itemsize for shape, dtype in self.parts.values())
            need, have = self.config.buffer_size * per_step, os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
            check(need <= have // 4, f"sac.buffer_size {self.config.buffer_size:,} of these observations needs "
                  f"{need / 2**30:.1f} GiB, more than a quarter of this machine's {have / 2**30:.0f} GiB: lower "
                  "--sac.buffer-size (the grasp preset keeps 100,000).")
            return MixedReplay(self.config.buffer_size, env.num_envs, self.parts, self.action_dim, online_fraction=1.0)
        return TransitionReplay(self.config.buffer_size, env.num_envs, tuple(env.single_observation_space.shape),
                                (self.action_dim,), self.device)

    def stored_reward(self, reward: torch.Tensor) -> torch.Tensor:
        return reward

    def schedule(self, step: int) -> dict[str, float]:
        return {}

    def update(self, replay: TransitionReplay, step: int) -> dict[str, torch.Tensor]:
        """One gradient step on a uniform batch; metrics stay on the device."""
        return self.train_batch(replay.sample(self.config.batch_size))

    def train_batch(self, batch: TransitionBatch) -> dict[str, torch.Tensor]:
        """The update of the module docstring on ``batch`` (actions in the env's units)."""
        action = (batch.action - self.action_bias) / self.action_scale
        shape = (batch.action.shape[0], self.action_dim)
        noise_next = torch.randn(shape, device=self.device)
        noise_pi = torch.randn(shape, device=self.device)
        metrics = self._update_step(self._params, self._targets, self.opt_state, batch.obs, action,
                                    batch.reward, batch.next_obs, batch.terminated, noise_next, noise_pi)
        self.updates += 1
        return dict(zip(METRICS, metrics.unbind()))

    # -- checkpoints and export ---------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        weights = {**{f"actor.{k}": v for k, v in self.actor.state_dict().items()},
                   **{f"critic.{k}": v for k, v in self.critic.state_dict().items()},
                   **{f"critic_target.{k}": v for k, v in self.critic_target.state_dict().items()},
                   "log_alpha": self.log_alpha}
        return {"weights": {k: v.detach().contiguous() for k, v in weights.items()},
                "optimizer": self.opt_state, "updates": self.updates}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        weights = state["weights"]
        try:
            for prefix, module in (("actor.", self.actor), ("critic.", self.critic),
                                   ("critic_target.", self.critic_target)):
                module.load_state_dict({k[len(prefix):]: v for k, v in weights.items() if k.startswith(prefix)})
        except RuntimeError as exc:
            raise UserError(f"checkpoint weights do not fit this SAC ({str(exc).strip().splitlines()[0]}); was it "
                            "trained on another env or with another --sac.hidden?") from None
        with torch.no_grad():
            self.log_alpha.copy_(weights["log_alpha"])
        if "optimizer" in state:
            # In place: the compiled update holds these very tensors.
            for group, saved in state["optimizer"].items():
                for moment in ("m", "v"):
                    for k, v in saved[moment].items():
                        self.opt_state[group][moment][k].copy_(v)
                self.opt_state[group]["step"].copy_(saved["step"])
        self.updates = int(state.get("updates", 0))

    def export_module(self) -> torch.nn.Module:
        if self.parts:
            return EncodedDeterministicPolicy(copy.deepcopy(self.critic.encoder).cpu(), copy.deepcopy(self.actor).cpu(),
                                              list(self.observation_space.spaces), self.action_scale.cpu(),
                                              self.action_bias.cpu())
        return DeterministicPolicy(self.actor, self.action_scale, self.action_bias)


def _batch_size(obs) -> int:
    return int(next(iter(obs.values())).shape[0] if isinstance(obs, dict) else obs.shape[0])


METRICS = ("critic_loss", "actor_loss", "alpha_loss", "alpha", "q", "entropy")


def _make_update_step(agent: SAC, c: SACConfig):
    """The whole SAC update as one function of plain tensors; the weights, targets and Adam moments it
    is given are overwritten in place (so the compiled graph ends in in-place copies, not outputs)."""
    actor, critic = agent.actor, agent.critic
    lr, target_entropy, learn_alpha = c.learning_rate, agent.target_entropy, c.learn_alpha
    encoded = agent.parts is not None

    def features(critic_params, obs):
        """What the actor reads: the observation, or the critics' encoder's features of it (no gradient
        reaches the encoder through the actor, as in SAC-AE and DrQ)."""
        if not encoded:
            return obs
        weights = {k.removeprefix("encoder."): v for k, v in critic_params.items() if k.startswith("encoder.")}
        return functional_call(critic.encoder, weights, (obs,)).detach()

    def sample(actor_params, obs, noise):
        mean, log_std = functional_call(actor, actor_params, (obs,))
        return squashed_sample(mean, log_std, noise)

    def critic_loss(critic_params, obs, action, y):
        q = functional_call(critic, critic_params, (obs, action))  # [2, B]
        return 0.5 * ((q - y) ** 2).mean(dim=1).sum(), q

    def actor_loss(actor_params, critic_params, alpha, obs, noise):
        pi, log_prob = sample(actor_params, features(critic_params, obs), noise)
        q = functional_call(critic, critic_params, (obs, pi)).min(dim=0).values
        loss = (alpha * log_prob - q).mean()
        return loss, (loss, log_prob)

    def alpha_loss(alpha_params, log_prob):
        return -(alpha_params["log_alpha"] * (log_prob + target_entropy)).mean()

    def step(params, target, opt, obs, action, reward, next_obs, terminated, noise_next, noise_pi):
        alpha = params["alpha"]["log_alpha"].exp()
        with torch.no_grad():
            next_action, next_log_prob = sample(params["actor"], features(params["critic"], next_obs), noise_next)
            next_q = functional_call(critic, target, (next_obs, next_action)).min(dim=0).values
            y = reward + c.gamma * (~terminated).float() * (next_q - alpha * next_log_prob)
        grads, q = grad(critic_loss, has_aux=True)(params["critic"], obs, action, y)
        q_loss = 0.5 * ((q - y) ** 2).mean(dim=1).sum()
        new_critic, new_opt_critic = adam_step(params["critic"], grads, opt["critic"], lr)
        grads, (pi_loss, log_prob) = grad(actor_loss, has_aux=True)(params["actor"], new_critic, alpha, obs, noise_pi)
        new_actor, new_opt_actor = adam_step(params["actor"], grads, opt["actor"], lr)
        log_prob = log_prob.detach()
        a_loss = alpha_loss(params["alpha"], log_prob)
        new_alpha, new_opt_alpha = params["alpha"], opt["alpha"]
        if learn_alpha:
            grads = grad(alpha_loss)(params["alpha"], log_prob)
            new_alpha, new_opt_alpha = adam_step(params["alpha"], grads, opt["alpha"], lr)
        with torch.no_grad():
            for old, new in ((params["critic"], new_critic), (params["actor"], new_actor), (params["alpha"], new_alpha)):
                for k in old:
                    old[k].copy_(new[k])
            for group, new in (("critic", new_opt_critic), ("actor", new_opt_actor), ("alpha", new_opt_alpha)):
                for moment in ("m", "v"):
                    for k in opt[group][moment]:
                        opt[group][moment][k].copy_(new[moment][k])
                opt[group]["step"].copy_(new["step"])
            for k in target:
                target[k].lerp_(new_critic[k], c.tau)
        return torch.stack([q_loss, pi_loss, a_loss, alpha, q.mean(), -log_prob.mean()]).detach()

    return step
