"""PilotNet behaviour cloning and DAgger: the network as published, fitting, aggregation, bad input."""

import numpy as np
import pytest
import torch

from sensorimotor.agents.bc import BCConfig, BehaviorCloning
from sensorimotor.agents.bc.agent import make_env
from sensorimotor.agents.imitation_runner import ImitationRunner
from sensorimotor.envs import make_vec
from sensorimotor.errors import UserError
from sensorimotor.policies.models.pilotnet import PilotNet
from sensorimotor.utils import datasets


def test_pilotnet_has_the_published_size():
    # Bojarski et al. 2016: "about 250 thousand parameters" on 66x200 images. By layer:
    # convs 1,824 + 21,636 + 43,248 + 27,712 + 36,928; FC 1,152*100+100, 5,050, 510, 11.
    assert sum(p.numel() for p in PilotNet((3, 66, 200)).parameters()) == 252_219
    assert PilotNet((3, 66, 200))(torch.zeros(2, 3, 66, 200, dtype=torch.uint8)).shape == (2, 1)


def test_pilotnet_refuses_images_its_convolutions_cannot_take():
    with pytest.raises(UserError, match="cannot take 32x32 images"):
        PilotNet((3, 32, 32))


class RecordingEnv:
    """Passes a sync VecEnv through, remembering each observation it returns and the expert's action
    for it, read straight from the tasks."""

    def __init__(self, env):
        self.env, self.seen = env, []

    def __getattr__(self, name):
        return getattr(self.env, name)

    def _remember(self, obs):
        labels = torch.tensor(np.stack([e.unwrapped.expert_action() for e in self.env.envs]))
        self.seen.append((obs.clone(), labels))

    def reset(self, seed=None):
        obs = self.env.reset(seed=seed)
        self._remember(obs)
        return obs

    def step(self, actions):
        out = self.env.step(actions)
        self._remember(out[0])
        return out


class NullLogger:
    def __init__(self):
        self.rows = []

    def log(self, step, metrics):
        self.rows.append((step, metrics))


def test_dagger_aggregates_exactly_the_states_the_learner_visited_with_expert_labels():
    env = RecordingEnv(make_vec("RacecarDrive64-v0", 2, backend="sync"))
    try:
        config = BCConfig(total_steps=24, num_envs=2, dagger_iterations=1, beta_decay=0.0, epochs=1, batch_size=8)
        agent = BehaviorCloning(config, env.single_observation_space, env.single_action_space)
        runner = ImitationRunner(agent, env, NullLogger(), save=lambda step: None, checkpoint_every=1,
                                 progress_bar=False, seed=0)
        runner.learn()
        obs, labels, iterations = runner.replay.tensors()
        assert len(obs) == 24 and iterations.tolist() == [0] * 12 + [1] * 12
        # The first observation after the reset has no label yet; every later one is stored once, with
        # the expert's action for exactly that state, in the order visited.
        visited = torch.cat([o for o, _ in env.seen[1:]])[:24]
        expert = torch.cat([e for _, e in env.seen[1:]])[:24]
        assert torch.equal(obs, visited)
        torch.testing.assert_close(labels, expert.float(), atol=1e-5, rtol=0)
        assert agent.iteration == 2 and runner.global_step == 24
    finally:
        env.close()


def test_behaviour_cloning_fits_a_fixed_dataset():
    """256 expert frames of the 64x64 driving world: the regression loss falls below 0.004 (the
    labels' variance is ~0.02) within 25 epochs."""
    env = make_vec("RacecarDrive64-v0", 2, backend="sync")
    try:
        obs, rows, labels = env.reset(seed=1), [], []
        for _ in range(129):
            expert = torch.tensor(np.stack([e.unwrapped.expert_action() for e in env.envs]))
            rows.append(obs.clone())
            labels.append(expert)
            obs = env.step(expert)[0]
        config = BCConfig(total_steps=256, epochs=25, batch_size=32, learning_rate=1e-3)
        # Seeded: some initialisations kill every ReLU of PilotNet's 10-unit layer and the fit stalls at
        # the labels' mean (seed 1 here; see the note on the driving issue).
        torch.manual_seed(0)
        agent = BehaviorCloning(config, env.single_observation_space, env.single_action_space)
    finally:
        env.close()
    from sensorimotor.agents.buffers.labelled_frames import LabelledFrames

    data = LabelledFrames()
    data.add(torch.cat(rows)[:256], torch.cat(labels)[:256], iteration=0)
    variance = float(data.tensors()[1].var())
    loss = agent.fit(data, torch.Generator().manual_seed(0))["loss"]
    assert variance > 0.005 and loss < 0.004, (variance, loss)


def test_training_needs_an_expert_and_a_dataset_of_the_same_task(tmp_path):
    config = BCConfig(total_steps=64)
    with pytest.raises(UserError, match="has no expert"):
        make_env("CartPole-v1", config, backend="sync")
    with pytest.raises(UserError, match="not an episode dataset"):
        make_env("RacecarDrive64-v0", BCConfig(dataset=str(tmp_path / "missing")), backend="sync")
    datasets.write_manifest(str(tmp_path / "foreign"), {"env": "KukaGrasp-v0", "policy": "expert"})
    with pytest.raises(UserError, match="collected on KukaGrasp-v0"):
        make_env("RacecarDrive64-v0", BCConfig(dataset=str(tmp_path / "foreign")), backend="sync")
    datasets.write_manifest(str(tmp_path / "empty"), {"env": "RacecarDrive64-v0", "policy": "expert"})
    with pytest.raises(UserError, match="no complete episode"):
        make_env("RacecarDrive64-v0", BCConfig(dataset=str(tmp_path / "empty")), backend="sync")


def test_ppo_fine_tuning_starts_from_the_bc_policy(tmp_path):
    import gymnasium as gym
    from dataclasses import replace

    from sensorimotor.agents.ppo import make_agent
    from sensorimotor.agents.ppo.presets import PPO_DRIVE_FINETUNE
    from sensorimotor.app.checkpointing import save_run_checkpoint

    obs_space = gym.spaces.Box(0, 255, (3, 64, 64), np.uint8)
    act_space = gym.spaces.Box(-1.0, 1.0, (1,), np.float32)
    bc = BehaviorCloning(BCConfig(total_steps=64), obs_space, act_space)
    save_run_checkpoint(str(tmp_path), 64, "bc", bc, env=None)
    ppo = make_agent(replace(PPO_DRIVE_FINETUNE, init_from=str(tmp_path), compile=False), obs_space, act_space)
    frames = torch.randint(0, 256, (4, 3, 64, 64), dtype=torch.uint8)
    mean, _ = ppo.model(frames)
    torch.testing.assert_close(mean, bc.model(frames))  # the actor's mean is the BC policy's steering
    assert ppo.predict(frames).shape == (4, 1)
    with pytest.raises(UserError, match="add --ppo.encoder pilotnet"):
        replace(PPO_DRIVE_FINETUNE, encoder="nature", init_from=str(tmp_path)).validate()
