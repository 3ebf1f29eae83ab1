"""Feed-forward PPO from pixels (SB3's CnnPolicy, CleanRL's ppo_atari): the Nature CNN shared by both
heads, uint8 frames in the rollout, whole games as episodes, and an exported graph that acts as the
eager agent."""

import json
import os

import numpy as np
import pytest
import torch

from sensorimotor.app.loading import load_run
from sensorimotor.policies.models import PixelActorCritic
from tests.helpers import run_cli, skip_without_native_bf16

TINY = ["--ppo.num-envs", "2", "--ppo.n-steps", "64", "--ppo.batch-size", "64", "--ppo.n-epochs", "1",
        "--ppo.total-steps", "640", "--ppo.no-compile", "--checkpoint-every", "640", "--no-progress"]


def test_ppo_trains_on_breakout_pixels_counting_whole_games(tmp_path):
    run_dir = str(tmp_path / "breakout")
    result = run_cli("train", "ppo", "--env", "ALE/Breakout-v5", "--run-dir", run_dir, *TINY, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    config = json.load(open(os.path.join(run_dir, "config.json")))
    assert config["preset"] == "atari" and config["ppo"]["recurrent"] is None  # the env's default preset
    rows = [json.loads(line) for line in open(os.path.join(run_dir, "metrics.jsonl"))]
    lengths = [row["episode_length"] for row in rows if "episode_length" in row]
    # A random Breakout game is five lives of ~30-40 agent steps each; one life alone is far shorter.
    assert lengths and min(lengths) > 100, lengths

    run = load_run(run_dir)
    assert isinstance(run.agent.model, PixelActorCritic)
    obs = run.env.reset(seed=0)
    assert obs.dtype == torch.uint8 and obs.shape == (1, 4, 84, 84)
    frames = [obs]
    for _ in range(30):
        obs = run.env.step(run.agent.predict(obs))[0]
        frames.append(obs)
    batch = torch.cat(frames)
    greedy = run.agent.predict(batch).numpy()
    run.env.close()

    result = run_cli("export", run_dir, "--formats", "onnx", "--frame-stack", "caller", "--robot-spec", "none")
    assert result.returncode == 0, result.stderr[-3000:]
    onnxruntime = pytest.importorskip("onnxruntime")
    session = onnxruntime.InferenceSession(os.path.join(run_dir, "export", "policy.onnx"))
    logits = run.agent.model(batch)[0].detach()
    top2 = logits.topk(2, dim=1).values
    clear = (top2[:, 0] - top2[:, 1] > 1e-4).numpy()  # float rounding may only flip near-ties
    assert clear.sum() >= 20, "too few clear argmaxes to compare"
    exported = session.run(None, {"obs": batch.numpy()})[0]
    assert np.array_equal(exported[clear], greedy[clear])


def test_pixel_export_module_is_nchw_and_acts_as_the_training_model():
    """The training model may keep NHWC convolutions (AVX-512 CPUs); the module handed to export is NCHW
    and computes the same actions."""
    import gymnasium as gym
    import numpy as np
    import torch

    from sensorimotor.agents.ppo import PPOConfig, make_agent

    obs_space = gym.spaces.Box(0, 255, (3, 66, 200), np.uint8)
    agent = make_agent(PPOConfig(num_envs=2, n_steps=8, batch_size=16, hidden=(), compile=False), obs_space,
                       gym.spaces.Box(-1.0, 1.0, (1,), np.float32))
    exported = agent.export_module()
    assert not exported.encoder.channels_last
    frames = torch.randint(0, 256, (3, 3, 66, 200), dtype=torch.uint8)
    torch.testing.assert_close(exported.export_actor().actor(frames), agent.model(frames)[0], atol=1e-5, rtol=1e-4)


def test_bf16_trunk_trains_in_mixed_precision_and_exports_float32(tmp_path):
    pytest.importorskip("Box2D")
    skip_without_native_bf16("--ppo.bf16-trunk")
    run_dir = str(tmp_path / "car")
    one_update = ["--ppo.num-envs", "2", "--ppo.n-steps", "64", "--ppo.batch-size", "64", "--ppo.n-epochs", "1",
                  "--ppo.total-steps", "128", "--ppo.no-compile", "--checkpoint-every", "128", "--no-progress"]
    result = run_cli("train", "ppo", "--env", "CarRacing-Repeat4-v3", "--ppo.bf16-trunk", "--run-dir", run_dir,
                     *one_update, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    rows = [json.loads(line) for line in open(os.path.join(run_dir, "metrics.jsonl"))]
    assert all(np.isfinite(row["total"]) for row in rows if "total" in row)

    run = load_run(run_dir)
    model = run.agent.model
    assert model.bf16_trunk and all(p.dtype == torch.float32 for p in model.parameters())
    frames = torch.randint(0, 256, (6, 4, 96, 96), dtype=torch.uint8)
    with torch.no_grad():
        mixed = model(frames)[0]
        model.bf16_trunk = False
        full = model(frames)[0]
    run.env.close()
    assert mixed.dtype == torch.float32 and not torch.equal(mixed, full)  # the trunk did run in bfloat16
    torch.testing.assert_close(mixed, full, rtol=0, atol=0.03 * float(full.abs().max()) + 1e-3)

    result = run_cli("export", run_dir, "--formats", "onnx", "--robot-spec", "none")
    assert result.returncode == 0, result.stderr[-3000:]
    onnxruntime = pytest.importorskip("onnxruntime")
    session = onnxruntime.InferenceSession(os.path.join(run_dir, "export", "policy.onnx"))
    exported = session.run(None, {"obs": frames.numpy()})[0]
    low, high = np.array([-1, 0, 0], np.float32), np.array([1, 1, 1], np.float32)
    np.testing.assert_allclose(exported, np.clip(full.numpy(), low, high), atol=1e-4)  # the float32 policy


def test_bf16_trunk_is_refused_where_it_does_not_apply(tmp_path):
    result = run_cli("train", "ppo", "--env", "RacecarDrive-v0", "--ppo.bf16-trunk", "--ppo.encoder", "pilotnet",
                     "--run-dir", str(tmp_path / "r"), *TINY)
    assert result.returncode == 2 and "ppo.bf16_trunk is for the feed-forward Nature-CNN encoder" in result.stderr
    skip_without_native_bf16("--ppo.bf16-trunk")
    result = run_cli("train", "ppo", "--env", "CartPole-v1", "--preset", "smoke", "--ppo.bf16-trunk",
                     "--run-dir", str(tmp_path / "r2"), "--no-progress")
    assert result.returncode == 2 and "--ppo.bf16-trunk is for pixel observations" in result.stderr
