"""PPO configuration: one typed, frozen dataclass; the CLI flags are generated from it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from sensorimotor.errors import check
from sensorimotor.utils.device import check_device, check_native_bf16


@dataclass(frozen=True)
class PPOConfig:
    """Proximal Policy Optimization (Schulman et al. 2017) with GAE."""

    total_steps: int = 1_000_000
    """Environment steps (summed over all envs) to train for; sets the learning-rate schedule."""
    num_envs: int = 8
    """Parallel environments feeding each rollout."""
    n_steps: int = 512
    """Steps per env per rollout; a rollout holds ``num_envs * n_steps`` transitions."""
    batch_size: int = 64
    """Minibatch size; must divide ``num_envs * n_steps``."""
    n_epochs: int = 10
    """Passes over each rollout."""
    learning_rate: float = 3e-4
    anneal_lr: bool = False
    """Decay the learning rate linearly to zero over ``total_steps``."""
    gamma: float = 0.99
    gae_lambda: float = 0.95
    clip_range: float = 0.2
    """Policy ratio clip epsilon."""
    anneal_clip: bool = False
    """Decay the clip range linearly to zero over ``total_steps`` (rl-zoo's ``lin_0.2``)."""
    clip_range_vf: float | None = None
    """Clip value updates around the old value by this much (None: off, as SB3's default)."""
    ent_coef: float = 0.0
    vf_coef: float = 0.5
    max_grad_norm: float = 0.5
    target_kl: float | None = None
    """Stop the epochs of an update early once the mean approximate KL exceeds this."""
    normalize_advantage: bool = True
    """Standardize advantages within each minibatch."""
    hidden: tuple[int, ...] = (64, 64)
    """Hidden layer sizes of the actor and of the critic (separate networks)."""
    activation: Literal["tanh", "relu", "elu", "silu"] = "tanh"
    log_std_init: float = 0.0
    """Initial log-std of the Gaussian (``distribution gaussian``)."""
    distribution: Literal["gaussian", "beta"] = "gaussian"
    """``Box`` actions: a Gaussian around the actor's output, clipped to the bounds by the env
    (SB3's and CleanRL's default), or a Beta scaled onto the bounds (Chou et al. 2017: no clipping
    bias, the mean is a valid action; the usual choice for CarRacing's gas and brake in [0, 1]). Beta:
    flat observations and the Nature CNN, feed-forward."""
    beta_action: tuple[Literal["mean", "mode"], ...] = ("mean",)
    """The deterministic action of a Beta policy (evaluation, export, deploy): the mean, or the mode
    (the density's peak, nearer the bound a skewed Beta leans to); one for every action dimension or
    one per dimension, e.g. ``mean mean mode`` for CarRacing's brake. ``evaluate --beta-action`` tries
    others on a trained run."""
    ortho_init: bool = True
    adam_eps: float = 1e-5
    normalize_obs: bool = True
    """Running observation normalization (statistics saved in checkpoints, frozen at evaluation)."""
    normalize_reward: bool = True
    """Scale rewards by the running std of the discounted return."""
    recurrent: Literal["lstm", "gru"] | None = None
    """``"lstm"`` or ``"gru"``: a recurrent core between the observation and each head (recurrent
    PPO); None: feed-forward MLPs."""
    core_size: int = 64
    """Hidden units of each recurrent core."""
    core_layers: int = 1
    shared_core: bool = False
    """One recurrent core feeding both heads (CleanRL's and Sample Factory's LSTM PPO) instead of one
    each (sb3-contrib's default). Pixel tasks want it: the value loss then trains the memory the policy
    reads, while the policy gradient alone, through the actor head's 0.01-gain start, barely reaches a
    core of its own (Doom runs with separate cores kept a near-uniform policy, approx KL ~1e-4)."""
    seq_len: int | None = None
    """Truncated-BPTT chunk length in steps (must divide ``n_steps`` and ``batch_size``); None: the
    whole rollout of each env is one sequence (sb3-contrib's behaviour)."""
    burn_in: int = 0
    """Steps at the start of each chunk that only refresh the recurrent state and carry no loss."""
    encoder: Literal["nature", "pilotnet"] = "nature"
    """Pixels: the Nature CNN shared by both heads (Atari, SB3's ``CnnPolicy``), or PilotNet (driving:
    the actor is a whole PilotNet, as ``bc`` trains it, and the critic another one)."""
    init_from: str | None = None
    """A ``bc`` run directory whose last checkpoint's PilotNet starts the actor (fine-tuning from
    behaviour cloning; needs ``encoder="pilotnet"``). Read once, when the agent is built."""
    bf16_trunk: bool = False
    """Mixed precision for the Nature-CNN pixel encoder: its convolutions and linear layer run in
    bfloat16 under autocast, in acting and in the update; heads, losses, weights and Adam stay float32,
    and the export is float32. ~2.5x faster encoder passes on CPUs with native bfloat16 (AMX,
    AVX512-BF16); refused elsewhere (slower there) and for other models."""
    compile: bool = True
    """Compile the minibatch update (forward, backward, clip, Adam) into one graph with
    torch.compile: about 4x faster updates for small MLPs, after a one-off compile of 10-30 s."""
    device: str = "cpu"

    @property
    def rollout_size(self) -> int:
        return self.num_envs * self.n_steps

    @property
    def sequence_length(self) -> int:
        return self.seq_len or self.n_steps

    @property
    def minibatches(self) -> int:
        return self.rollout_size // self.batch_size

    def validate(self) -> None:
        """Raise :class:`UserError` on values that cannot work."""
        for name in ("total_steps", "num_envs", "n_steps", "batch_size", "n_epochs"):
            value = getattr(self, name)
            check(value > 0, f"ppo.{name} must be positive, got {value}.")
        for name in ("learning_rate", "clip_range", "max_grad_norm", "adam_eps"):
            check(getattr(self, name) > 0, f"ppo.{name} must be positive, got {getattr(self, name)}.")
        check(0 < self.gamma <= 1, f"ppo.gamma must be in (0, 1], got {self.gamma}.")
        check(0 <= self.gae_lambda <= 1, f"ppo.gae_lambda must be in [0, 1], got {self.gae_lambda}.")
        check(
            self.rollout_size % self.batch_size == 0 and self.batch_size <= self.rollout_size,
            f"ppo.batch_size {self.batch_size} must divide num_envs * n_steps = {self.rollout_size} "
            f"({self.num_envs} x {self.n_steps}); try {_nearest_divisor(self.rollout_size, self.batch_size)}.",
        )
        check(all(h > 0 for h in self.hidden), f"ppo.hidden sizes must be positive, got {self.hidden}.")
        check_device(self.device, "--ppo.device")
        check(self.encoder in ("nature", "pilotnet"), f"ppo.encoder must be 'nature' or 'pilotnet', got {self.encoder!r}.")
        check(self.init_from is None or (self.encoder == "pilotnet" and self.recurrent is None),
              "ppo.init_from starts a feed-forward PilotNet actor from a bc run: add --ppo.encoder pilotnet.")
        check(self.distribution in ("gaussian", "beta"),
              f"ppo.distribution must be 'gaussian' or 'beta', got {self.distribution!r}.")
        check(len(self.beta_action) > 0 and all(a in ("mean", "mode") for a in self.beta_action),
              f"ppo.beta_action takes 'mean' or 'mode' per action dimension, got {list(self.beta_action)}.")
        check(set(self.beta_action) == {"mean"} or self.distribution == "beta",
              "ppo.beta_action mode is the deterministic action of a Beta policy: add --ppo.distribution beta.")
        if self.distribution == "beta":
            check(self.encoder == "nature" and self.recurrent is None,
                  "ppo.distribution beta is built for feed-forward models with the Nature-CNN encoder or flat "
                  "observations (not pilotnet, not recurrent): use --ppo.distribution gaussian.")
        if self.bf16_trunk:
            check(self.encoder == "nature" and self.recurrent is None,
                  "ppo.bf16_trunk is for the feed-forward Nature-CNN encoder (not pilotnet, not recurrent).")
            check_native_bf16(self.device, "--ppo.bf16-trunk")
        if self.recurrent is not None:
            self._validate_recurrent()
        else:
            # Silently ignoring them would train a memoryless policy the user did not ask for.
            check(self.seq_len is None and self.burn_in == 0,
                  f"ppo.seq_len ({self.seq_len}) and ppo.burn_in ({self.burn_in}) need a recurrent model, and "
                  "ppo.recurrent is None: add --ppo.recurrent lstm (or gru), or use a feed-forward preset.")

    def _validate_recurrent(self) -> None:
        check(self.recurrent in ("lstm", "gru"), f"ppo.recurrent must be 'lstm' or 'gru', got {self.recurrent!r}.")
        check(self.core_size > 0 and self.core_layers > 0,
              f"ppo.core_size and ppo.core_layers must be positive, got {self.core_size}, {self.core_layers}.")
        L = self.sequence_length
        check(0 < L <= self.n_steps, f"ppo.seq_len {L} must be in [1, n_steps = {self.n_steps}]: a sequence "
              "cannot be longer than the rollout.")
        check(self.n_steps % L == 0, f"ppo.seq_len {L} must divide n_steps = {self.n_steps}.")
        check(self.batch_size % L == 0, f"ppo.batch_size {self.batch_size} must be a multiple of seq_len {L} "
              "(a minibatch holds whole sequences).")
        check(0 <= self.burn_in < L, f"ppo.burn_in must be in [0, seq_len = {L}), got {self.burn_in}.")


def _nearest_divisor(n: int, target: int) -> int:
    return min((d for d in range(1, n + 1) if n % d == 0), key=lambda d: abs(d - target))
