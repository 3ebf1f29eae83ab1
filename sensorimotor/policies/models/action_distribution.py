"""The action distribution shared by the actor-critic models: Gaussian, Beta or categorical."""

from __future__ import annotations

from typing import Literal

import gymnasium as gym
import numpy as np
import torch
from torch import nn

from sensorimotor.errors import check
from sensorimotor.policies.modules import distributions as D

Distribution = Literal["gaussian", "beta"]
BetaStatistic = Literal["mean", "mode"]


class ActionDistribution(nn.Module):
    """Turns action parameters into samples, log-probs and entropies, for ``Box`` actions by a Gaussian
    (means ``[B, A]`` and a learned state-independent log-std) or a Beta (``[B, 2A]``: two
    concentrations per dimension, scaled onto the action's bounds; Chou et al. 2017), for ``Discrete``
    actions by a categorical (logits ``[B, K]``).

    The Beta never proposes an action outside the bounds, so no clipping biases the gradient, and its
    mean is a bounded action as it stands (CarRacing's gas and brake in [0, 1]). Log-probs and
    entropies are of the action itself (the change of variables from (0, 1) adds ``-sum log(high -
    low)`` and ``+sum log(high - low)``).

    The deterministic action of a Beta is its mean unless :meth:`set_beta_action` asks for the mode,
    for all dimensions or for some: the peak of the density, nearer the bound a skewed Beta leans to (on
    CarRacing the brake's mean is ~0.07, its mode ~0.02; the policy drove far worse at the mode,
    benchmarks/results.md ``carracing_ppo_beta_brake_mode``). Acting, evaluation and export all read it;
    it is not a weight (a buffer left out of the state dict), so one checkpoint serves either.

    Subclasses call ``super().__init__(action_space, log_std_init, distribution)``, give their actor
    ``param_dim`` outputs, and pass the actor through :meth:`deterministic_head` when exporting.
    """

    def __init__(self, action_space: gym.Space, log_std_init: float = 0.0, distribution: Distribution = "gaussian"):
        super().__init__()
        self.continuous = isinstance(action_space, gym.spaces.Box)
        self.action_dim = int(action_space.shape[0]) if self.continuous else int(action_space.n)
        check(distribution in ("gaussian", "beta"), f"the action distribution must be 'gaussian' or 'beta', got {distribution!r}.")
        self.distribution = distribution if self.continuous else "categorical"
        check(distribution != "beta" or self.continuous, "a Beta policy is for Box actions; this task's actions are "
              "discrete: drop --ppo.distribution beta.")
        self.param_dim = self.action_dim
        if self.distribution == "beta":
            low, high = np.asarray(action_space.low, np.float64), np.asarray(action_space.high, np.float64)
            check(bool(np.isfinite(low).all() and np.isfinite(high).all()),
                  f"a Beta policy needs finite action bounds, got low {low.tolist()}, high {high.tolist()}.")
            self.param_dim = 2 * self.action_dim
            self.register_buffer("action_low", torch.as_tensor(low, dtype=torch.float32))
            self.register_buffer("action_range", torch.as_tensor(high - low, dtype=torch.float32))
        self.log_std = nn.Parameter(torch.full((self.action_dim,), float(log_std_init)),
                                    requires_grad=self.distribution == "gaussian")
        if self.distribution == "beta":
            self.register_buffer("beta_use_mode", torch.zeros(self.action_dim, dtype=torch.bool), persistent=False)

    def log_prob_entropy(self, action_params, actions, log_std=None):
        """``(log_prob [B], entropy [B])`` of ``actions`` under the distribution at ``action_params``.

        ``log_std`` may be passed in explicitly so a functional call can differentiate through it.
        """
        if self.distribution == "gaussian":
            log_std = self.log_std if log_std is None else log_std
            return (D.gaussian_log_prob(action_params, log_std, actions),
                    D.gaussian_entropy(log_std, action_params.shape[0]))
        if self.distribution == "beta":
            alpha, beta = D.beta_concentrations(action_params)
            log_range = torch.log(self.action_range).sum()
            x = (actions - self.action_low) / self.action_range
            return D.beta_log_prob(alpha, beta, x) - log_range, D.beta_entropy(alpha, beta) + log_range
        return D.categorical_log_prob(action_params, actions), D.categorical_entropy(action_params)

    def sample(self, action_params: torch.Tensor, deterministic: bool = False) -> torch.Tensor:
        """Actions ``[B, A]`` (or ``[B]`` indices): drawn, or the mean (Gaussian; Beta: the mean, or the
        mode where :meth:`set_beta_action` asked) / argmax."""
        if self.distribution == "gaussian":
            return action_params if deterministic else D.gaussian_sample(action_params, self.log_std)
        if self.distribution == "beta":
            alpha, beta = D.beta_concentrations(action_params)
            x = D.beta_point(alpha, beta, self.beta_use_mode) if deterministic else D.beta_sample(alpha, beta)
            return self.action_low + self.action_range * x
        return action_params.argmax(-1) if deterministic else D.categorical_sample(action_params)

    def deterministic_head(self, actor: nn.Module) -> nn.Module:
        """``actor`` (observation -> action parameters) followed by what turns its parameters into the
        deterministic action the export clamps to the bounds: nothing for a Gaussian's means or logits,
        the scaled mean (or mode, per :meth:`set_beta_action`) for a Beta."""
        if self.distribution != "beta":
            return actor
        return nn.Sequential(actor, BetaDeterministicAction(self.action_low, self.action_range, self.beta_use_mode))

    def set_beta_action(self, statistics: tuple[BetaStatistic, ...]) -> None:
        """A Beta policy's deterministic action: ``("mean",)`` or ``("mode",)`` for every dimension, or one
        per dimension (CarRacing: ``("mean", "mean", "mode")``, the brake's mode). Ignored by others."""
        # The names themselves are checked by PPOConfig.validate; only the count needs the action space.
        if self.distribution != "beta":
            return
        check(len(statistics) in (1, self.action_dim),
              f"beta_action names {len(statistics)} statistics for {self.action_dim} action dimensions: give one "
              f"for all or one per dimension.")
        use_mode = [s == "mode" for s in statistics] * (self.action_dim if len(statistics) == 1 else 1)
        self.beta_use_mode.copy_(torch.as_tensor(use_mode, dtype=torch.bool))

    @property
    def beta_action(self) -> tuple[str, ...]:
        """The deterministic action per dimension, ``("mean", ...)``; empty for a policy that is no Beta."""
        if self.distribution != "beta":
            return ()
        return tuple("mode" if m else "mean" for m in self.beta_use_mode.tolist())


class BetaDeterministicAction(nn.Module):
    """``params [B, 2A]`` -> the Beta's mean (or mode where ``use_mode [A]`` is set) on the action's
    bounds ``[B, A]`` (the exported action)."""

    def __init__(self, action_low: torch.Tensor, action_range: torch.Tensor, use_mode: torch.Tensor):
        super().__init__()
        self.register_buffer("action_low", action_low.detach().clone())
        self.register_buffer("action_range", action_range.detach().clone())
        self.register_buffer("use_mode", use_mode.detach().clone())

    def forward(self, params: torch.Tensor) -> torch.Tensor:
        return self.action_low + self.action_range * D.beta_point(*D.beta_concentrations(params), self.use_mode)
