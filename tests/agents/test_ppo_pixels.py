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
from tests.helpers import run_cli

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
