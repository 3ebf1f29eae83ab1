"""Stable-Baselines3 interop: SB3's algorithms train on our VecEnvs through the adapter (and pass SB3's
own VecEnv checks), and an SB3 model exports to our ONNX + manifest with the actions of
``model.predict(obs, deterministic=True)``."""

import json
import os

import numpy as np
import pytest
import torch

from sensorimotor.app.sb3_interop import SB3VecEnv
from sensorimotor.envs import make_vec
from tests.helpers import run_cli

sb3 = pytest.importorskip("stable_baselines3")


def test_adapter_speaks_sb3_vecenv_conventions():
    env = SB3VecEnv(make_vec("CartPole-v1", 2))
    env.seed(0)
    obs = env.reset()
    assert obs.shape == (2, 4) and obs.dtype == np.float32
    episodes, steps = 0, 0
    while episodes < 2:
        obs, reward, dones, infos = env.step(np.array([0, 0]))  # always left: short episodes
        steps += 1
        assert reward.shape == (2,) and dones.dtype == bool and len(infos) == 2
        for i in np.flatnonzero(dones):
            # SB3 bootstraps truncations from the terminal observation, which is not the reset one.
            assert infos[i]["terminal_observation"].shape == (4,)
            assert not np.array_equal(infos[i]["terminal_observation"], obs[i])
            assert infos[i]["TimeLimit.truncated"] is False and infos[i]["episode"]["l"] > 0
            assert infos[i]["episode"]["r"] == infos[i]["episode"]["l"]  # CartPole: +1 per step
            episodes += 1
    env.close()


def test_sb3_ppo_trains_on_our_batched_mujoco_backend(tmp_path):
    from stable_baselines3 import PPO

    env = SB3VecEnv(make_vec("HalfCheetah-v5", 4, backend="mujoco"))
    model = PPO("MlpPolicy", env, n_steps=256, batch_size=256, n_epochs=1, seed=0, device="cpu", verbose=0)
    model.learn(4096)  # 1024 steps per env: each env ends one 1000-step episode
    assert model.num_timesteps == 4096
    # The episode statistics reached SB3's buffer through infos["episode"] (1000-step episodes).
    assert len(model.ep_info_buffer) >= 4 and all(info["l"] == 1000 for info in model.ep_info_buffer)
    action, _ = model.predict(env.reset(), deterministic=True)
    assert action.shape == (4, 6)
    env.close()


@pytest.mark.parametrize("algorithm, env_id", [("PPO", "Pendulum-v1"), ("SAC", "Pendulum-v1"),
                                                ("TD3", "Pendulum-v1"), ("DQN", "CartPole-v1"),
                                                ("PPO", "CartPole-v1")])
def test_sb3_model_exports_with_its_predict_actions(tmp_path, algorithm, env_id):
    onnxruntime = pytest.importorskip("onnxruntime")
    import stable_baselines3

    cls = getattr(stable_baselines3, algorithm)
    kwargs = {"learning_starts": 10} if algorithm in ("SAC", "TD3", "DQN") else {"n_steps": 64, "batch_size": 64}
    model = cls("MlpPolicy", SB3VecEnv(make_vec(env_id, 1)), seed=0, device="cpu", verbose=0,
                policy_kwargs={"net_arch": [32, 32]}, **kwargs)
    model.learn(128)
    path = str(tmp_path / f"{algorithm.lower()}.zip")
    model.save(path)
    result = run_cli("export", path, "--env", env_id, "--formats", "onnx", "--robot-spec", "none")
    assert result.returncode == 0, result.stderr[-3000:]
    out = str(tmp_path / f"{algorithm.lower()}-export")
    manifest = json.load(open(os.path.join(out, "manifest.json")))
    assert manifest["env"] == env_id and manifest["step"] == model.num_timesteps
    env = make_vec(env_id, 8)
    obs = env.reset(seed=1)
    batches = [obs.numpy()]
    for _ in range(10):
        obs = env.step(torch.as_tensor(model.predict(obs.numpy())[0]))[0]
        batches.append(obs.numpy())
    env.close()
    obs = np.concatenate(batches).astype(np.float32)
    session = onnxruntime.InferenceSession(os.path.join(out, "policy.onnx"))
    exported = session.run(None, {"obs": obs})[0]
    expected, _ = model.predict(obs, deterministic=True)
    if algorithm == "DQN" or env_id == "CartPole-v1":
        assert np.array_equal(exported, expected)
    else:
        np.testing.assert_allclose(exported, expected, atol=1e-5)


def test_sb3_export_needs_the_env(tmp_path):
    from stable_baselines3 import PPO

    model = PPO("MlpPolicy", SB3VecEnv(make_vec("CartPole-v1", 1)), n_steps=64, batch_size=64, device="cpu")
    path = str(tmp_path / "ppo.zip")
    model.save(path)
    result = run_cli("export", path)
    assert result.returncode == 2 and "needs --env ID" in result.stderr and "Traceback" not in result.stderr


def test_sb3_cnn_policy_on_our_ale_backend_exports_with_its_predict_actions(tmp_path):
    onnxruntime = pytest.importorskip("onnxruntime")
    from stable_baselines3 import DQN

    env = SB3VecEnv(make_vec("ALE/Pong-v5", 2, backend="ale"))  # uint8 [4, 84, 84], channels first
    model = DQN("CnnPolicy", env, buffer_size=1000, learning_starts=64, train_freq=8, seed=0, device="cpu", verbose=0)
    model.learn(128)
    path = str(tmp_path / "dqn_pong.zip")
    model.save(path)
    obs = np.concatenate([env.reset()] + [env.step(np.array([2, 3]))[0] for _ in range(15)])
    env.close()
    result = run_cli("export", path, "--env", "ALE/Pong-v5", "--formats", "onnx", "--frame-stack", "caller",
                     "--robot-spec", "none")
    assert result.returncode == 0, result.stderr[-3000:]
    session = onnxruntime.InferenceSession(str(tmp_path / "dqn_pong-export" / "policy.onnx"))
    q = model.q_net(torch.as_tensor(obs)).detach()  # SB3 scales the uint8 frames inside
    top2 = q.topk(2, dim=1).values
    clear = (top2[:, 0] - top2[:, 1] > 1e-5).numpy()
    assert clear.sum() >= 16
    expected, _ = model.predict(obs, deterministic=True)
    assert np.array_equal(session.run(None, {"obs": obs})[0][clear], expected[clear])
