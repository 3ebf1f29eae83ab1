"""PPO's Beta policy (``--ppo.distribution beta``): the density, entropy, mode and scaling against
numbers worked out by hand and torch's own Beta, bounded samples, the deterministic action (mean or
mode) in acting, export and ``evaluate``, and a bandit it learns."""

import json
import math
import os

import gymnasium as gym
import numpy as np
import pytest
import torch

from sensorimotor.agents.ppo import PPOConfig, make_agent
from sensorimotor.app import api
from sensorimotor.app.evaluate import EvaluateArgs, evaluate
from sensorimotor.errors import UserError
from sensorimotor.policies.models import ActorCritic
from sensorimotor.policies.modules import distributions as D

# digamma(2) = 1 - Euler's gamma, digamma(4) = 1 + 1/2 + 1/3 - Euler's gamma
EULER = 0.5772156649015329
DIGAMMA_2, DIGAMMA_4 = 1 - EULER, 1 + 1 / 2 + 1 / 3 - EULER


def test_beta_density_and_entropy_by_hand():
    two = torch.full((1, 1), 2.0)
    # Beta(2, 2) has density 6 x (1 - x): 1.5 at x = 0.5, 6 x 0.1 x 0.9 = 0.54 at x = 0.1.
    assert D.beta_log_prob(two, two, torch.tensor([[0.5]])).item() == pytest.approx(math.log(1.5), abs=1e-6)
    assert D.beta_log_prob(two, two, torch.tensor([[0.1]])).item() == pytest.approx(math.log(0.54), abs=1e-6)
    # Summed over dimensions: two independent components.
    assert D.beta_log_prob(two.expand(1, 2), two.expand(1, 2), torch.tensor([[0.5, 0.1]])).item() == pytest.approx(
        math.log(1.5 * 0.54), abs=1e-6)
    # Entropy: log B(2, 2) - 2 (2 - 1) digamma(2) + (4 - 2) digamma(4), with B(2, 2) = 1/6.
    expected = math.log(1 / 6) - 2 * DIGAMMA_2 + 2 * DIGAMMA_4
    assert D.beta_entropy(two, two).item() == pytest.approx(expected, abs=1e-6)
    assert expected == pytest.approx(-0.1251, abs=1e-4)
    ones = torch.ones(1, 3)
    assert D.beta_entropy(ones, ones).item() == pytest.approx(0.0, abs=1e-6)  # the uniform on (0, 1)^3
    # Parameters 0 -> concentrations softplus(0) + 1 = 1 + log 2 each; mean 1/2.
    alpha, beta = D.beta_concentrations(torch.zeros(1, 4))
    assert alpha.shape == beta.shape == (1, 2)
    assert torch.allclose(alpha, torch.full((1, 2), 1 + math.log(2)))
    assert D.beta_mean(alpha, beta).flatten().tolist() == [0.5, 0.5]


def test_actions_on_the_bounds_match_torchs_beta_with_the_change_of_variables():
    space = gym.spaces.Box(np.array([-2.0, 0.0], np.float32), np.array([2.0, 1.0], np.float32))
    model = ActorCritic(3, space, hidden=(8,), distribution="beta")
    assert model.param_dim == 4 and not model.log_std.requires_grad
    params = torch.tensor([[0.3, -1.0, 0.7, 2.0], [-0.5, 0.0, 0.1, -0.2]])
    actions = torch.tensor([[1.0, 0.25], [-1.5, 0.9]])
    log_prob, entropy = model.log_prob_entropy(params, actions)
    a = torch.nn.functional.softplus(params[:, :2]) + 1
    b = torch.nn.functional.softplus(params[:, 2:]) + 1
    reference = torch.distributions.Beta(a, b)
    x = torch.stack([(actions[:, 0] + 2) / 4, actions[:, 1]], dim=1)
    log_range = math.log(4.0) + math.log(1.0)
    torch.testing.assert_close(log_prob, reference.log_prob(x).sum(-1) - log_range)
    torch.testing.assert_close(entropy, reference.entropy().sum(-1) + log_range)

    torch.manual_seed(0)
    many = model.sample(params[:1].expand(20_000, 4))
    assert bool((many[:, 0] > -2).all() and (many[:, 0] < 2).all() and (many[:, 1] > 0).all() and (many[:, 1] < 1).all())
    mean = model.sample(params[:1], deterministic=True)[0]
    torch.testing.assert_close(mean, torch.stack([-2 + 4 * reference.mean[0, 0], reference.mean[0, 1]]))
    torch.testing.assert_close(many.mean(0), mean, atol=0.02, rtol=0)


def test_beta_mode_by_hand():
    alpha, beta = torch.tensor([[3.0, 1.5, 2.0, 1.0]]), torch.tensor([[2.0, 6.0, 2.0, 1.0]])
    # (alpha - 1) / (alpha + beta - 2): 2/3 (mean 3/5), 0.5/5.5 = 1/11 (mean 0.2), 1/2 when symmetric;
    # Beta(1, 1) is the uniform, which has no peak: 0, not a NaN.
    torch.testing.assert_close(D.beta_mode(alpha, beta), torch.tensor([[2 / 3, 1 / 11, 0.5, 0.0]]))
    torch.testing.assert_close(D.beta_mean(alpha, beta), torch.tensor([[0.6, 0.2, 0.5, 0.5]]))


def test_deterministic_action_is_the_mean_or_the_mode_in_acting_and_export():
    space = gym.spaces.Box(np.array([-2.0, 0.0], np.float32), np.array([2.0, 1.0], np.float32))
    model = ActorCritic(3, space, hidden=(8,), distribution="beta")
    # softplus(log(e^2 - 1)) = 2 and softplus(log(e^0.5 - 1)) = 0.5: alpha (3, 1.5), beta (2, 6).
    params = torch.tensor([[math.log(math.e ** 2 - 1), math.log(math.e ** 0.5 - 1),
                            math.log(math.e - 1), math.log(math.e ** 5 - 1)]])
    mean = torch.tensor([[-2 + 4 * 0.6, 0.2]])
    mode = torch.tensor([[-2 + 4 * 2 / 3, 1 / 11]])
    torch.testing.assert_close(model.sample(params, deterministic=True), mean)
    torch.testing.assert_close(model.deterministic_head(torch.nn.Identity())(params), mean)
    model.set_beta_action(("mode",))
    assert model.beta_action == ("mode", "mode")
    torch.testing.assert_close(model.sample(params, deterministic=True), mode)
    torch.testing.assert_close(model.deterministic_head(torch.nn.Identity())(params), mode)
    model.set_beta_action(("mean", "mode"))  # per dimension: the second at its mode
    torch.testing.assert_close(model.sample(params, deterministic=True), torch.tensor([[mean[0, 0], mode[0, 1]]]))
    torch.testing.assert_close(model.deterministic_head(torch.nn.Identity())(params), torch.tensor([[mean[0, 0], mode[0, 1]]]))
    assert "beta_use_mode" not in model.state_dict()  # not a weight: checkpoints serve either
    with pytest.raises(UserError, match="2 action dimensions"):
        model.set_beta_action(("mean", "mode", "mode"))
    # The agent takes it from its config; a Gaussian has no mode to choose.
    flat = gym.spaces.Box(-1, 1, (3,), np.float32)
    agent = make_agent(PPOConfig(distribution="beta", beta_action=("mode",), compile=False), flat, space)
    assert agent.model.beta_action == ("mode", "mode")
    with pytest.raises(UserError, match="add --ppo.distribution beta"):
        PPOConfig(beta_action=("mode",)).validate()
    with pytest.raises(UserError, match="'mean' or 'mode'"):
        PPOConfig(distribution="beta", beta_action=("median",)).validate()


def test_evaluate_chooses_the_beta_action_of_a_trained_run(tmp_path):
    run_dir = str(tmp_path / "beta")
    api.PPO("Pendulum-v1", preset="smoke", distribution="beta", compile=False, run_dir=run_dir).learn(256)
    summaries = {action: evaluate(EvaluateArgs(run_dir, episodes=2, beta_action=(action,))) for action in ("mean", "mode")}
    assert summaries["mean"]["beta_action"] == ["mean"] and summaries["mode"]["beta_action"] == ["mode"]
    assert summaries["mean"]["return_mean"] != summaries["mode"]["return_mean"]  # the same episodes, other actions
    config_path = os.path.join(run_dir, "config.json")
    saved = json.load(open(config_path))
    saved["ppo"]["distribution"] = "gaussian"
    json.dump(saved, open(config_path, "w"))
    with pytest.raises(UserError, match="--beta-action is for PPO runs with a Beta policy"):
        evaluate(EvaluateArgs(run_dir, episodes=1, beta_action=("mode",)))


def test_beta_needs_finite_bounds_and_a_box():
    unbounded = gym.spaces.Box(-np.inf, np.inf, (2,), np.float32)
    flat = gym.spaces.Box(-1, 1, (3,), np.float32)
    with pytest.raises(UserError, match="finite action bounds"):
        make_agent(PPOConfig(distribution="beta", compile=False), flat, unbounded)
    with pytest.raises(UserError, match="discrete"):
        make_agent(PPOConfig(distribution="beta", compile=False), flat, gym.spaces.Discrete(3))
    with pytest.raises(UserError, match="pilotnet"):
        PPOConfig(distribution="beta", encoder="pilotnet").validate()
    with pytest.raises(UserError, match="'gaussian' or 'beta'"):
        PPOConfig(distribution="laplace").validate()


def test_ppo_with_a_beta_policy_learns_a_bounded_bandit():
    """One-step episodes, reward -(a - target)^2 per dimension: the deterministic action (the Beta's
    mean) starts at the middle of each range and must end within 0.05 of the targets."""
    torch.manual_seed(0)
    space = gym.spaces.Box(np.array([0.0, -1.0], np.float32), np.array([1.0, 1.0], np.float32))
    target = torch.tensor([0.85, -0.6])
    obs_space = gym.spaces.Box(-1, 1, (2,), np.float32)
    config = PPOConfig(distribution="beta", num_envs=16, n_steps=16, batch_size=64, n_epochs=4, learning_rate=3e-3,
                       hidden=(16,), normalize_obs=False, normalize_reward=False, compile=False)
    agent = make_agent(config, obs_space, space)
    storage = agent.make_storage((2,))
    obs = torch.zeros(16, 2)
    assert torch.allclose(agent.predict(obs)[0], torch.tensor([0.5, 0.0]), atol=0.01)
    done = torch.ones(16, dtype=torch.bool)
    for _ in range(40):
        for t in range(16):
            actions, log_probs, values = agent.act(obs)
            rewards = -(actions - target).square().sum(-1)
            storage.add(t, obs, actions, log_probs, values, rewards, done, ~done, obs)
        agent.update(storage)
    final = agent.predict(obs)[0]
    torch.testing.assert_close(final, target, atol=0.05, rtol=0)
