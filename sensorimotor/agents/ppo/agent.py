"""The PPO agent: an actor-critic model, a functional Adam state, and the minibatch update."""

from __future__ import annotations

import copy
from typing import Any

import gymnasium as gym
import numpy as np
import torch
from torch.func import functional_call, grad

from sensorimotor.agents.base import Memoryless
from sensorimotor.agents.optim import adam_init, adam_step, clip_grad_norm
from sensorimotor.agents.ppo.config import PPOConfig
from sensorimotor.agents.ppo.loss import LOSS_TERMS, ppo_loss
from sensorimotor.agents.returns import gae
from sensorimotor.agents.rollout_storage import RolloutStorage, map_observation
from sensorimotor.errors import UserError, check
from sensorimotor.policies.models import ActorCritic, PilotNetActorCritic, PixelActorCritic
from sensorimotor.policies.models.multi_input import MultiInputActor, MultiInputActorCritic
from sensorimotor.utils.compile import compile_or_eager
from sensorimotor.utils.device import channels_last_is_faster


class PPO(Memoryless):
    """PPO over a flat observation vector, pixels, or a ``Dict`` of both (camera + state).

    Args:
        config: the algorithm's settings.
        observation_space: a single env's ``Box`` or ``Dict`` observation space.
        action_space: a single env's ``Box`` (Gaussian) or ``Discrete`` action space.
    """

    name = "ppo"

    def __init__(self, config: PPOConfig, observation_space: gym.Space, action_space: gym.Space):
        config.validate()
        self.config = config
        self.device = torch.device(config.device)
        self.observation_space, self.action_space = observation_space, action_space
        if isinstance(observation_space, gym.spaces.Dict):
            check(config.encoder != "pilotnet", "ppo.encoder pilotnet takes one camera image; this task observes "
                  f"{list(observation_space.spaces)}.")
            check(not config.bf16_trunk, "--ppo.bf16-trunk is for one pixel observation, not a Dict of parts.")
            check(config.distribution == "gaussian", "--ppo.distribution beta is for one observation (pixels or a "
                  "vector), not a Dict of parts: use --ppo.distribution gaussian.")
            self.model = MultiInputActorCritic(observation_space, action_space, config.hidden,
                                               config.activation, config.log_std_init, config.ortho_init)
        else:
            self.model = self._make_model(tuple(observation_space.shape), action_space)
            self.model.set_beta_action(config.beta_action)
        self.model = self.model.to(self.device)
        if config.init_from is not None:
            load_bc_actor(self.model, config.init_from)
        self.action_shape = tuple(action_space.shape)
        # Pixels stay uint8 in the rollout (4x less memory); the encoder scales them.
        self.obs_dtype = map_space(lambda s: torch.uint8 if s.dtype == np.uint8 else torch.float32, observation_space)
        self.action_dtype = torch.float32 if self.model.continuous else torch.int64
        self._trainable = [n for n, p in self.model.named_parameters() if p.requires_grad]
        self.opt_state = adam_init(self._params())
        self._build_steps()

    def _build_steps(self) -> None:
        """The minibatch update and the acting step, compiled when the config asks."""
        self._update_step = _make_update_step(self.model, self.config)
        self._act = self._act_eager
        if self.config.compile:
            # For small networks the step is all per-op overhead: one graph with a C++ wrapper (no
            # Python between kernels) makes updates ~8x and acting ~5x faster than eager torch.
            options = {"cpp_wrapper": True}
            self._update_step = compile_or_eager(self._update_step, fullgraph=True, dynamic=False, options=options)
            if self.model.distribution != "beta":  # inductor has no kernel for the Gamma draws a Beta sample takes
                self._act = compile_or_eager(self._act_eager, fullgraph=True, dynamic=False, options=options)

    def _make_model(self, obs_shape: tuple[int, ...], action_space: gym.Space):
        c = self.config
        if len(obs_shape) == 3 and c.encoder == "pilotnet":
            return PilotNetActorCritic(obs_shape, action_space, c.log_std_init)
        if len(obs_shape) == 3:  # pixels: one Nature-CNN encoder under both heads
            model = PixelActorCritic(obs_shape, action_space, c.hidden, c.activation, c.log_std_init, c.ortho_init,
                                     distribution=c.distribution)
            # NHWC convolutions where oneDNN's kernels are native to it (AVX-512 CPUs): the same function.
            model.encoder.use_channels_last(channels_last_is_faster(c.device))
            model.bf16_trunk = c.bf16_trunk
            return model
        if c.bf16_trunk:
            raise UserError(f"--ppo.bf16-trunk is for pixel observations ([C, H, W] uint8), not {obs_shape}.")
        return ActorCritic(obs_shape[0], action_space, c.hidden, c.activation, c.log_std_init, c.ortho_init,
                           distribution=c.distribution)

    # -------------------------------------------------------------------------------------- acting
    def record_step(self, t: int, storage: RolloutStorage, terminated, truncated, info) -> None:
        """Called by the runner after step t is stored; feed-forward PPO needs nothing more."""

    @torch.inference_mode()
    def act(self, obs: torch.Tensor, deterministic: bool = False):
        """``obs [N, obs_dim] -> (actions [N, ...], log_probs [N], values [N])``."""
        return self._act(obs, deterministic)

    @torch.inference_mode()
    def predict(self, obs: torch.Tensor, deterministic: bool = True) -> torch.Tensor:
        """``obs [N, ...] -> actions [N, ...]`` (the Gaussian's mean or the argmax when deterministic)."""
        return self.act(obs, deterministic)[0]

    def export_module(self) -> torch.nn.Module:
        if isinstance(self.model, MultiInputActorCritic):  # one graph input per observation part
            return MultiInputActor(copy.deepcopy(self.model).cpu(), list(self.observation_space.spaces), self.action_space)
        if isinstance(self.model, PixelActorCritic) and self.model.encoder.channels_last:
            # torch.export cannot trace the layout change over a dynamic batch: export in NCHW.
            module = copy.deepcopy(self.model)
            module.encoder.use_channels_last(False)
            return module
        return self.model

    def _act_eager(self, obs: torch.Tensor, deterministic: bool):
        action_params, values = self.model(obs)
        actions = self.model.sample(action_params, deterministic)
        log_probs, _ = self.model.log_prob_entropy(action_params, actions)
        return actions, log_probs, values

    def make_storage(self, obs_shape: tuple[int, ...]) -> RolloutStorage:
        c = self.config
        return RolloutStorage(c.n_steps, c.num_envs, obs_shape, self.action_shape, self.action_dtype, self.device,
                              self.obs_dtype)

    # ------------------------------------------------------------------------------------ learning
    def update(self, storage: RolloutStorage, progress: float = 0.0) -> dict[str, float]:
        """Fit the policy and value function to one rollout; returns the mean loss terms.

        ``progress`` in [0, 1] is the share of training done (for learning-rate annealing).
        """
        c = self.config
        with torch.no_grad():
            advantages, returns = gae(storage.rewards, storage.values, self._next_values(storage),
                                      storage.terminated, storage.truncated, c.gamma, c.gae_lambda)
        lr = torch.tensor(c.learning_rate * ((1.0 - progress) if c.anneal_lr else 1.0), device=self.device)
        clip = torch.tensor(c.clip_range * ((1.0 - progress) if c.anneal_clip else 1.0), device=self.device)
        params = self._params()
        totals = torch.zeros(len(LOSS_TERMS) + 1, device=self.device)
        epochs_done = 0
        for _ in range(c.n_epochs):
            epoch_totals = torch.zeros_like(totals)
            for batch in self._minibatches(storage, advantages, returns):
                params, self.opt_state, metrics = self._update_step(params, self.opt_state, lr, clip, *batch)
                epoch_totals += metrics
            totals += epoch_totals
            epochs_done += 1
            # One host sync per epoch, and only when early stopping is asked for.
            kl_index = LOSS_TERMS.index("approx_kl")
            if c.target_kl is not None and epoch_totals[kl_index].item() / c.minibatches > 1.5 * c.target_kl:
                break
        self._load_params(params)
        means = (totals / (epochs_done * c.minibatches)).tolist()
        result = dict(zip((*LOSS_TERMS, "grad_norm"), means))
        result.update(epochs=float(epochs_done), learning_rate=float(lr), clip_range=float(clip),
                      explained_variance=_explained_variance(storage.values, returns))
        if self.model.distribution == "gaussian":  # a Beta's spread is per state: its entropy is logged
            result["action_std"] = self.model.log_std.exp().mean().item()
        return result

    def _next_values(self, storage: RolloutStorage) -> torch.Tensor:
        """``[T, N]`` V of the state that really followed each step (``final_obs`` at episode ends)."""
        T, N = storage.n_steps, storage.num_envs
        return self.model.value(map_observation(lambda o: o.flatten(0, 1), storage.next_obs)).view(T, N)

    def _minibatches(self, storage: RolloutStorage, advantages: torch.Tensor, returns: torch.Tensor):
        """One epoch: ``(index, obs, actions, log_probs, advantages, returns, values)`` per minibatch,
        the rollout flattened and ``index [batch_size]`` a random slice of a permutation."""
        c = self.config
        batch = (
            map_observation(lambda o: o.flatten(0, 1), storage.obs), storage.actions.flatten(0, 1), storage.log_probs.flatten(),
            advantages.flatten(), returns.flatten(), storage.values.flatten(),
        )
        permutation = torch.randperm(c.rollout_size, device=self.device)
        for index in permutation.view(c.minibatches, c.batch_size):
            yield (index, *batch)

    # --------------------------------------------------------------------------------- persistence
    def weights(self) -> dict[str, torch.Tensor]:
        """Model weights (for safetensors)."""
        return {k: v.detach().contiguous() for k, v in self.model.state_dict().items()}

    def load_weights(self, weights: dict[str, torch.Tensor]) -> None:
        from sensorimotor.errors import UserError

        try:
            self.model.load_state_dict(weights)
        except RuntimeError as exc:
            first = str(exc).strip().splitlines()[0]
            raise UserError(f"checkpoint weights do not fit this model ({first}); was it trained with "
                            "another env or network size?") from None

    def state_dict(self) -> dict[str, Any]:
        """``{"weights", "optimizer"}``: model weights and the Adam moments and step."""
        return {"weights": self.weights(), "optimizer": self.opt_state}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.load_weights(state["weights"])
        if "optimizer" in state:  # absent when only a policy is loaded (evaluate, export)
            self.opt_state = {k: (v if k == "step" else {n: t.to(self.device) for n, t in v.items()})
                              for k, v in state["optimizer"].items()}

    def _params(self) -> dict[str, torch.Tensor]:
        named = dict(self.model.named_parameters())
        return {k: named[k].detach() for k in self._trainable}

    def _load_params(self, params: dict[str, torch.Tensor]) -> None:
        named = dict(self.model.named_parameters())
        with torch.no_grad():
            for k, v in params.items():
                named[k].copy_(v)


def _make_update_step(model: ActorCritic, c: PPOConfig):
    """One minibatch step as a pure function: loss, gradient, clipping and Adam in one graph."""

    def loss_fn(params, clip, obs, actions, old_log_probs, advantages, returns, old_values):
        action_params, values = functional_call(model, params, (obs,))
        log_probs, entropy = model.log_prob_entropy(action_params, actions, params.get("log_std"))
        terms = ppo_loss(log_probs, entropy, values, old_log_probs, old_values, advantages, returns,
                         clip, c.clip_range_vf, c.ent_coef, c.vf_coef, c.normalize_advantage)
        return terms["total"], terms

    def step(params, opt_state, lr, clip, index, obs, actions, log_probs, advantages, returns, values):
        grads, terms = grad(loss_fn, has_aux=True)(
            params, clip, map_observation(lambda o: o[index], obs), actions[index], log_probs[index], advantages[index], returns[index],
            values[index],
        )
        return apply_gradients(params, grads, terms, opt_state, lr, c)

    return step


def apply_gradients(params, grads, terms, opt_state, lr, c: PPOConfig):
    """Clip the gradients' global norm, take one Adam step; returns ``(params, opt_state, metrics)``
    with ``metrics [len(LOSS_TERMS) + 1]``: the loss terms then the gradient norm before clipping."""
    grads, grad_norm = clip_grad_norm(grads, c.max_grad_norm)
    params, opt_state = adam_step(params, grads, opt_state, lr, eps=c.adam_eps)
    metrics = torch.stack([terms[k].detach() for k in LOSS_TERMS] + [grad_norm])
    return params, opt_state, metrics


def _explained_variance(values: torch.Tensor, returns: torch.Tensor) -> float:
    """``1 - Var(returns - values) / Var(returns)``: 1 is a perfect critic, 0 a constant one."""
    var = returns.var()
    return float("nan") if var.item() == 0 else (1 - (returns - values).var() / var).item()


def load_bc_actor(model: torch.nn.Module, run_dir: str) -> None:
    """Copy the PilotNet of ``run_dir``'s last checkpoint (a ``bc`` run) into ``model.actor``."""
    from sensorimotor.utils.checkpoint import latest_checkpoint, load_checkpoint

    path = latest_checkpoint(run_dir)
    check(path is not None, f"{run_dir} has no checkpoint to start the actor from (ppo.init_from wants a bc run).")
    weights, _ = load_checkpoint(path)
    try:
        model.actor.load_state_dict(weights)
    except RuntimeError as exc:
        raise UserError(f"{run_dir} holds no PilotNet that fits this task ({str(exc).strip().splitlines()[0]}): "
                        "ppo.init_from wants a bc run on the same camera size.") from None


def map_space(fn, space: gym.Space):
    """``fn`` of a space, or ``{key: fn(part)}`` of a ``Dict`` space."""
    if isinstance(space, gym.spaces.Dict):
        return {k: fn(s) for k, s in space.spaces.items()}
    return fn(space)
