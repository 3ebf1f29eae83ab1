"""Exported policies (ONNX through onnxruntime, TorchScript) act exactly as the trained agent does,
recurrent state carried explicitly over a multi-step sequence with episode resets."""

import json
import os

import numpy as np
import pytest
import torch

from sensorimotor.app.loading import load_run
from sensorimotor.envs import make_vec
from sensorimotor.envs.wrappers import NormalizeObservation
from tests.helpers import run_cli


def train_tiny(tmp_path, env_id, *flags):
    run_dir = str(tmp_path / "run")
    result = run_cli("train", "ppo", "--env", env_id, "--preset", "smoke", "--run-dir", run_dir, "--no-progress",
                     "--ppo.normalize-obs", *flags, timeout=300)
    assert result.returncode == 0, result.stderr
    result = run_cli("export", run_dir, timeout=300)
    assert result.returncode == 0, result.stderr
    return run_dir


def recorded_observations(env_id, steps=60, seed=3):
    """Raw observations and episode starts from random play: ``[steps, 1, obs_dim]``, ``[steps]``."""
    env = make_vec(env_id, 1)
    obs, observations, starts, start = env.reset(seed=seed), [], [], True
    for _ in range(steps):
        observations.append(obs.clone())
        starts.append(start)
        action = torch.as_tensor(np.asarray(env.single_action_space.sample()))[None]
        obs, _, terminated, truncated, _ = env.step(action)
        start = bool(terminated[0] or truncated[0])
    env.close()
    return observations, starts


def eager_actions(run_dir, observations, starts):
    run = load_run(run_dir)
    agent, norm = run.agent, run.env.find(NormalizeObservation)
    space = run.env.single_action_space
    agent.reset_state(1)
    actions = []
    for obs, start in zip(observations, starts):
        if start:
            agent.end_episodes(torch.ones(1, dtype=torch.bool))
        action, _, _ = agent.act(norm.normalize(obs), deterministic=True)
        if hasattr(space, "low"):
            action = action.clamp(torch.as_tensor(space.low), torch.as_tensor(space.high))
        actions.append(action)
    return torch.cat(actions)


def run_exported(call, observations, starts, state_size):
    state = np.zeros((1, state_size), np.float32)
    actions = []
    for obs, start in zip(observations, starts):
        if start:
            state = np.zeros_like(state)
        outputs = call(obs.numpy(), state)
        actions.append(np.asarray(outputs[0]))
        if state_size:
            state = np.asarray(outputs[1])
    return torch.as_tensor(np.concatenate(actions))


@pytest.mark.parametrize("env_id, flags", [
    ("PendulumNoVel-v1", ["--ppo.recurrent", "lstm"]),
    ("CartPoleNoVel-v1", ["--ppo.recurrent", "gru", "--ppo.core-layers", "2"]),
    ("Pendulum-v1", []),
    # The Beta's mode on the bounds, inside the graph (the mean's head is checked in test_ppo_beta.py).
    ("Pendulum-v1", ["--ppo.distribution", "beta", "--ppo.beta-action", "mode"]),
])
def test_exported_policy_matches_the_agent(tmp_path, env_id, flags):
    onnxruntime = pytest.importorskip("onnxruntime")
    run_dir = train_tiny(tmp_path, env_id, *flags)
    manifest = json.load(open(os.path.join(run_dir, "export", "manifest.json")))
    assert manifest["inputs"]["obs"]["normalized_inside"] is True
    recurrent = manifest["recurrent"] is not None
    assert recurrent == ("--ppo.recurrent" in flags)
    state_size = manifest["inputs"]["state"]["shape"][1] if recurrent else 0
    observations, starts = recorded_observations(env_id)
    assert any(starts[1:]) or env_id != "CartPoleNoVel-v1"  # random CartPole play ends episodes: resets get tested
    expected = eager_actions(run_dir, observations, starts)

    session = onnxruntime.InferenceSession(os.path.join(run_dir, "export", manifest["files"]["onnx"]))

    def onnx_call(obs, state):
        feeds = {"obs": obs, "state": state} if recurrent else {"obs": obs}
        return session.run(None, feeds)

    scripted = torch.jit.load(os.path.join(run_dir, "export", manifest["files"]["torchscript"]))

    def script_call(obs, state):
        with torch.no_grad():
            out = scripted(torch.as_tensor(obs), torch.as_tensor(state)) if recurrent else scripted(torch.as_tensor(obs))
        return [o.numpy() for o in out] if recurrent else [out.numpy()]

    for call in (onnx_call, script_call):
        got = run_exported(call, observations, starts, state_size)
        if expected.dtype == torch.int64:
            assert torch.equal(got.long().flatten(), expected.flatten())
        else:
            torch.testing.assert_close(got.float(), expected.float(), atol=1e-5, rtol=1e-5)


def test_pixel_recurrent_policy_exports_with_its_encoder(tmp_path):
    onnxruntime = pytest.importorskip("onnxruntime")
    run_dir = train_tiny(tmp_path, "Doom-Basic-v0", "--ppo.recurrent", "lstm", "--ppo.core-size", "32")
    manifest = json.load(open(os.path.join(run_dir, "export", "manifest.json")))
    assert manifest["inputs"]["obs"]["shape"] == ["batch", 1, 60, 80] and manifest["inputs"]["obs"]["dtype"] == "uint8"
    observations, starts = recorded_observations("Doom-Basic-v0", steps=20)
    run = load_run(run_dir)
    run.agent.reset_state(1)
    expected = []
    for obs, start in zip(observations, starts):
        if start:
            run.agent.end_episodes(torch.ones(1, dtype=torch.bool))
        expected.append(run.agent.act(obs, deterministic=True)[0])
    session = onnxruntime.InferenceSession(os.path.join(run_dir, "export", manifest["files"]["onnx"]))
    state_size = manifest["inputs"]["state"]["shape"][1]
    got = run_exported(lambda o, s: session.run(None, {"obs": o, "state": s}), observations, starts, state_size)
    assert torch.equal(got.flatten(), torch.cat(expected).flatten())

    # The same policy exported for a camera: RGB frames in, grayscale and resize inside the graph. A gray
    # frame repeated over R, G, B has luma equal to itself, and a 2x pixel-repeated frame resizes back to
    # itself under bilinear interpolation at scale 1/2, so the actions must be identical.
    for camera_hw, repeat in (((60, 80), 1), ((120, 160), 2)):
        result = run_cli("export", run_dir, "--formats", "onnx", "--camera-size", *map(str, camera_hw), timeout=300)
        assert result.returncode == 0, result.stderr
        camera_manifest = json.load(open(os.path.join(run_dir, "export", "manifest.json")))
        assert camera_manifest["inputs"]["obs"]["shape"] == ["batch", *camera_hw, 3]
        camera_session = onnxruntime.InferenceSession(os.path.join(run_dir, "export", "policy.onnx"))
        frames = [torch.as_tensor(np.repeat(np.repeat(o.numpy()[:, 0], repeat, 1), repeat, 2)[..., None].repeat(3, -1))
                  for o in observations]
        got_camera = run_exported(lambda o, s: camera_session.run(None, {"obs": o, "state": s}), frames, starts, state_size)
        assert torch.equal(got_camera.flatten(), got.flatten())
    result = run_cli("export", run_dir, "--camera-size", "0", "10", timeout=300)
    assert result.returncode == 2 and "must be positive" in result.stderr
