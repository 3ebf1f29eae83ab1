"""Recurrent actor-critic: observation -> recurrent core -> MLP head, for actor and critic apart."""

from __future__ import annotations

import gymnasium as gym
import torch

from sensorimotor.policies.export import ActorGraph
from sensorimotor.policies.models.action_distribution import ActionDistribution
from sensorimotor.policies.modules import MLP
from sensorimotor.policies.modules.cnn import ConvEncoder
from sensorimotor.policies.modules.recurrent import RecurrentCore, masked_sequences, split_at_starts


class RecurrentActorCritic(ActionDistribution):
    """Actor and critic each own a recurrent core (as sb3-contrib's ``enable_critic_lstm``), so the
    value loss cannot disturb the policy's memory; or, with ``shared_core``, one core feeds both heads
    (CleanRL's LSTM PPO), so the value loss trains the memory the policy reads.

    The model's state is one ``[B, S]`` tensor: the actor core's state, then the critic core's (only
    the one core's state when shared).
    Pixel observations go through one convolutional encoder shared by both (as sb3-contrib's
    ``CnnLstmPolicy``); flat ones straight into the cores.

    Args:
        obs_shape: ``(obs_dim,)`` or ``(C, H, W)`` for pixels.
        action_space: ``Box`` (Gaussian) or ``Discrete`` (logits).
        kind: ``"lstm"`` or ``"gru"``.
        core_size: hidden units of each core; core_layers: stacked layers.
        hidden: MLP layer sizes after each core (may be empty).
        shared_core: one core for both heads.
    """

    def __init__(
        self, obs_shape: tuple[int, ...], action_space: gym.Space, kind: str = "lstm", core_size: int = 64,
        core_layers: int = 1, hidden: tuple[int, ...] = (64,), activation: str = "tanh",
        log_std_init: float = 0.0, ortho_init: bool = True, shared_core: bool = False,
    ):
        super().__init__(action_space, log_std_init)
        self.encoder = ConvEncoder(obs_shape, ortho_init=ortho_init) if len(obs_shape) == 3 else None
        in_dim = self.encoder.features if self.encoder is not None else int(obs_shape[0])
        self.actor_core = RecurrentCore(kind, in_dim, core_size, core_layers)
        self.shared_core = shared_core
        self.critic_core = None if shared_core else RecurrentCore(kind, in_dim, core_size, core_layers)
        self.actor_head = MLP(core_size, self.action_dim, hidden, activation, ortho_init, output_gain=0.01)
        self.critic_head = MLP(core_size, 1, hidden, activation, ortho_init, output_gain=1.0)

    def export_actor(self) -> ActorGraph:
        return ActorGraph(self.actor_head, self.continuous, core=self.actor_core, encoder=self.encoder)

    @property
    def state_size(self) -> int:
        return self.actor_core.state_size + (0 if self.shared_core else self.critic_core.state_size)

    def initial_state(self, batch: int, device: torch.device | str = "cpu") -> torch.Tensor:
        return torch.zeros(batch, self.state_size, device=device)

    def core_weights(self):
        """The cores' weights, ``(actor, critic)``, to pass into :meth:`step` under torch.compile."""
        return self.actor_core.weights(), None if self.shared_core else self.critic_core.weights()

    def step(self, obs: torch.Tensor, state: torch.Tensor, core_weights=None):
        """``obs [B, obs_dim]``, ``state [B, S]`` -> ``(action params [B, A], values [B], state [B, S])``."""
        actor_weights, critic_weights = core_weights or (None, None)
        obs = self.encode(obs)
        actor_state, critic_state = self._split(state)
        actor_out, actor_state = self.actor_core.step(obs, actor_state, actor_weights)
        if self.shared_core:
            return self.actor_head(actor_out), self.critic_head(actor_out).squeeze(-1), actor_state
        critic_out, critic_state = self.critic_core.step(obs, critic_state, critic_weights)
        values = self.critic_head(critic_out).squeeze(-1)
        return self.actor_head(actor_out), values, torch.cat([actor_state, critic_state], -1)

    def value_step(self, obs: torch.Tensor, state: torch.Tensor) -> torch.Tensor:
        """``V [B]`` of ``obs [B, obs_dim]`` seen after ``state``; the state is not advanced."""
        critic_out, _ = self._critic_core.step(self.encode(obs), self._split(state)[1])
        return self.critic_head(critic_out).squeeze(-1)

    def forward(self, obs: torch.Tensor, state: torch.Tensor, starts: torch.Tensor):
        """A sequence: ``obs [L, B, obs_dim]``, ``state [B, S]`` before step 0, ``starts [L, B]`` ->
        ``(action params [L, B, A], values [L, B])``; the cores restart from zero at each start."""
        return self.heads(*self.core_outputs(obs, state, starts))

    def core_outputs(self, obs: torch.Tensor, state: torch.Tensor, starts: torch.Tensor):
        """The first half of :meth:`forward`: ``(actor core out, critic core out)``, ``[L, B, core_size]``
        each (the same tensor twice when the core is shared)."""
        L, B = starts.shape
        obs = self.encode(obs.flatten(0, 1)).view(L, B, -1)
        actor_state, critic_state = self._split(state)
        if self.uses_masks(obs.device, obs.dtype):
            # Both cores in one kernel call (actor and critic side by side on the CPU's cores).
            cores, states = ([self.actor_core], [actor_state]) if self.shared_core else (
                [self.actor_core, self.critic_core], [actor_state, critic_state])
            outs = masked_sequences(cores, obs, states, starts)
            return outs[0], outs[-1]
        plan = split_at_starts(starts)  # one segment plan for both cores
        actor_out = self.actor_core.sequence(obs, actor_state, starts, plan)
        critic_out = actor_out if self.shared_core else self.critic_core.sequence(obs, critic_state, starts, plan)
        return actor_out, critic_out

    def heads(self, actor_out: torch.Tensor, critic_out: torch.Tensor):
        """The second half of :meth:`forward`: ``[..., core_size]`` each -> ``(action params [..., A],
        values [...])``."""
        return self.actor_head(actor_out), self.critic_head(critic_out).squeeze(-1)

    def uses_masks(self, device: torch.device | str, dtype: torch.dtype = torch.float32) -> bool:
        """Whether :meth:`forward` runs the cores on reset masks (static shapes) rather than segments."""
        return all(core.uses_masks(device, dtype) for core in (self.actor_core, self._critic_core))

    def encode(self, obs: torch.Tensor) -> torch.Tensor:
        """``[B, *obs_shape] -> [B, in_dim]`` (identity for flat observations)."""
        return obs if self.encoder is None else self.encoder(obs)

    @property
    def _critic_core(self) -> RecurrentCore:
        return self.actor_core if self.shared_core else self.critic_core

    def _split(self, state: torch.Tensor):
        """``[B, S]`` -> (actor core's state, critic core's state); the same tensor twice when shared."""
        if self.shared_core:
            return state, state
        return state.split([self.actor_core.state_size, self.critic_core.state_size], dim=-1)
