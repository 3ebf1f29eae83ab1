"""Recurrent PPO: the PPO loss over whole sequences, with an LSTM or GRU memory per env.

What changes from :class:`PPO` is only the model (:class:`RecurrentActorCritic`), the rollout
storage (the state each step was acted from, episode starts) and the minibatches (fixed-length chunks
of one env's steps, each with its saved initial state). The update runs every chunk through the fused
LSTM / GRU kernel in one call per minibatch, cut at episode starts (see ``RecurrentCore.sequence``).
"""

from __future__ import annotations

import gymnasium as gym
import torch

from sensorimotor.agents.optim import clip_and_adam_
from sensorimotor.agents.ppo.agent import PPO
from sensorimotor.agents.ppo.config import PPOConfig
from sensorimotor.agents.ppo.loss import LOSS_TERMS, ppo_loss
from sensorimotor.agents.rollout_storage import RecurrentRolloutStorage
from sensorimotor.agents.sequences import sequence_minibatches
from sensorimotor.policies.models import RecurrentActorCritic
from sensorimotor.policies.modules.recurrent import reset_state
from sensorimotor.utils.compile import compile_or_eager


class RecurrentPPO(PPO):
    """PPO with recurrent actor and critic. The agent carries the acting state of its envs between
    calls: :meth:`act` advances it, :meth:`end_episodes` marks the envs whose next step starts fresh
    (call it whenever episodes end; :meth:`reset_state` forgets everything).
    """

    def __init__(self, config: PPOConfig, observation_space: gym.Space, action_space: gym.Space):
        super().__init__(config, observation_space, action_space)
        self.reset_state(config.num_envs)

    def _build_steps(self) -> None:
        """The recurrent update and acting step (the feed-forward ones do not apply and are never built)."""
        self._update_step = _make_recurrent_update_step(self.model, self.config)
        self._act_step = self._act_step_eager
        if self.config.compile:
            self._act_step = compile_or_eager(self._act_step_eager, fullgraph=True, dynamic=False,
                                              options={"cpp_wrapper": True})

    def _make_model(self, obs_shape: tuple[int, ...], action_space: gym.Space) -> RecurrentActorCritic:
        c = self.config
        return RecurrentActorCritic(obs_shape, action_space, c.recurrent, c.core_size, c.core_layers, c.hidden,
                                    c.activation, c.log_std_init, c.ortho_init, c.shared_core)

    # -------------------------------------------------------------------------------------- acting
    def reset_state(self, num_envs: int) -> None:
        self._state = self.model.initial_state(num_envs, self.device)
        self._starts = torch.ones(num_envs, dtype=torch.bool, device=self.device)
        self._acted_from = (self._state, self._starts)

    def end_episodes(self, done: torch.Tensor) -> None:
        self._starts = self._starts | done.to(self.device, torch.bool)

    def memory(self) -> tuple[torch.Tensor, torch.Tensor]:
        """``(state [N, S], starts [N])``: the cores' state and which envs start fresh at the next act."""
        return self._state, self._starts

    def set_memory(self, memory) -> None:
        if memory is None:
            self.reset_state(self._state.shape[0])
        else:
            self._state, self._starts = memory

    @torch.inference_mode()
    def act(self, obs: torch.Tensor, deterministic: bool = False):
        """``obs [N, obs_dim] -> (actions, log_probs [N], values [N])``; advances the envs' state."""
        actions, log_probs, values, acted_from, self._state = self._act_step(
            obs, self._state, self._starts, deterministic, self.model.core_weights())
        self._acted_from = (acted_from, self._starts)
        self._starts = torch.zeros_like(self._starts)  # until end_episodes says otherwise
        return actions, log_probs, values

    def _act_step_eager(self, obs, state, starts, deterministic: bool, core_weights):
        state = reset_state(state, starts)
        action_params, values, new_state = self.model.step(obs, state, core_weights)
        actions = self.model.sample(action_params, deterministic)
        log_probs, _ = self.model.log_prob_entropy(action_params, actions)
        return actions, log_probs, values, state, new_state

    @torch.inference_mode()
    def record_step(self, t: int, storage: RecurrentRolloutStorage, terminated, truncated, info) -> None:
        """Store the state step t was acted from; value a truncated episode's final observation from
        the state its last step left (the only place that state is known)."""
        storage.states[t], storage.episode_starts[t] = self._acted_from
        if bool(truncated.any()):
            storage.next_values[t] = self.model.value_step(info["final_obs"], self._state)
        self.end_episodes(terminated | truncated)

    def make_storage(self, obs_shape: tuple[int, ...]) -> RecurrentRolloutStorage:
        c = self.config
        return RecurrentRolloutStorage(c.n_steps, c.num_envs, obs_shape, self.action_shape, self.action_dtype,
                                       self.device, self.model.state_size, self.obs_dtype)

    # ------------------------------------------------------------------------------------ learning
    def _next_values(self, storage: RecurrentRolloutStorage) -> torch.Tensor:
        # Step t's successor was acted on at t + 1, so its value is already stored; the last step's
        # successor is valued from the state the rollout ended in, a truncation's from record_step.
        last = self.model.value_step(storage.next_obs[-1], self._state)
        following = torch.cat([storage.values[1:], last.unsqueeze(0)])
        return torch.where(storage.truncated, storage.next_values, following)

    def _minibatches(self, storage: RecurrentRolloutStorage, advantages: torch.Tensor, returns: torch.Tensor):
        c = self.config
        data = {"obs": storage.obs, "starts": storage.episode_starts, "actions": storage.actions,
                "log_probs": storage.log_probs, "advantages": advantages, "returns": returns,
                "values": storage.values}
        L = c.sequence_length
        for batch, initial in sequence_minibatches(data, storage.states, L, c.batch_size // L):
            yield batch, initial


def _make_recurrent_update_step(model: RecurrentActorCritic, c: PPOConfig):
    """One minibatch of ``[L, B]`` chunks: loss over the steps after burn-in, gradient, clip, Adam.

    Runs on the model's own parameters with plain autograd (not torch.func: under functorch the fused
    RNN's backward falls back to a per-time-step decomposition, ~15x slower on the CPU) and updates
    them in place (``clip_and_adam_``). The encoder and cores run eagerly (their kernels are opaque to
    torch.compile, and the segment path's shapes change from batch to batch); what follows them, heads
    and loss, has static shapes and compiles into one graph, forward and backward: ~25% off a step
    of the CartPole benchmark, where those are ~60 small ops.
    """
    live = {k: p for k, p in model.named_parameters() if p.requires_grad}
    keys, tensors = list(live), [p.detach() for p in live.values()]

    def heads_and_loss(actor_out, critic_out, clip, actions, old_log_probs, old_values, advantages, returns):
        b = c.burn_in

        def flat(x):
            return x[b:].flatten(0, 1)

        action_params, values = model.heads(flat(actor_out), flat(critic_out))
        log_probs, entropy = model.log_prob_entropy(action_params, flat(actions))
        return ppo_loss(log_probs, entropy, values, flat(old_log_probs), flat(old_values), flat(advantages),
                        flat(returns), clip, c.clip_range_vf, c.ent_coef, c.vf_coef, c.normalize_advantage)

    if c.compile:
        heads_and_loss = compile_or_eager(heads_and_loss, fullgraph=True, dynamic=False,
                                          options={"cpp_wrapper": True})

    def step(params, opt_state, lr, clip, batch, initial):
        actor_out, critic_out = model.core_outputs(batch["obs"], initial, batch["starts"])
        terms = heads_and_loss(actor_out, critic_out, clip, batch["actions"], batch["log_probs"], batch["values"],
                               batch["advantages"], batch["returns"])
        grads = list(torch.autograd.grad(terms["total"], list(live.values())))
        with torch.no_grad():
            grad_norm = clip_and_adam_(tensors, grads, opt_state, keys, lr, c.max_grad_norm, eps=c.adam_eps)
            metrics = torch.stack([terms[k].detach() for k in LOSS_TERMS] + [grad_norm])
        return params, opt_state, metrics

    return step
