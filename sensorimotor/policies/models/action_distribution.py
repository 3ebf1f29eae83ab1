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

    The deterministic action of a Beta is its mean unless the attribute ``beta_action`` is set to
    ``"mode"``: the peak of the density, which sits nearer the bound a skewed Beta leans to (a brake
    whose draws are mostly near 0 has a mean of 0.1 or more and a mode near 0). Acting, evaluation and
    export all read the attribute; it is not a weight, so a checkpoint serves either.

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
        self.beta_action: BetaStatistic = "mean"

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
        """Actions ``[B, A]`` (or ``[B]`` indices): drawn, or the mean (Gaussian; Beta by default, its mode
        when ``beta_action`` says so) / argmax."""
        if self.distribution == "gaussian":
            return action_params if deterministic else D.gaussian_sample(action_params, self.log_std)
        if self.distribution == "beta":
            alpha, beta = D.beta_concentrations(action_params)
            x = self._beta_statistic()(alpha, beta) if deterministic else D.beta_sample(alpha, beta)
            return self.action_low + self.action_range * x
        return action_params.argmax(-1) if deterministic else D.categorical_sample(action_params)

    def deterministic_head(self, actor: nn.Module) -> nn.Module:
        """``actor`` (observation -> action parameters) followed by what turns its parameters into the
        deterministic action the export clamps to the bounds: nothing for a Gaussian's means or logits,
        the scaled mean (or mode, per ``beta_action``) for a Beta."""
        if self.distribution != "beta":
            return actor
        return nn.Sequential(actor, BetaDeterministicAction(self.action_low, self.action_range, self.beta_action))

    def _beta_statistic(self):
        check(self.beta_action in ("mean", "mode"), f"beta_action must be 'mean' or 'mode', got {self.beta_action!r}.")
        return D.beta_mode if self.beta_action == "mode" else D.beta_mean


class BetaDeterministicAction(nn.Module):
    """``params [B, 2A]`` -> the Beta's mean or mode on the action's bounds ``[B, A]`` (the exported action)."""

    def __init__(self, action_low: torch.Tensor, action_range: torch.Tensor, statistic: BetaStatistic = "mean"):
        super().__init__()
        self.register_buffer("action_low", action_low.detach().clone())
        self.register_buffer("action_range", action_range.detach().clone())
        self.statistic = D.beta_mode if statistic == "mode" else D.beta_mean

    def forward(self, params: torch.Tensor) -> torch.Tensor:
        return self.action_low + self.action_range * self.statistic(*D.beta_concentrations(params))
