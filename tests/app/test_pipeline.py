"""One pipeline for every registered agent: the same test runs over the agent registry, so an agent is
tested the moment it is registered. Each trains its ``smoke`` preset on its ``smoke_env`` through the
CLI, then: the update changed the parameters, a resumed run continues the step count, the loaded
policy acts as the trained one, the exported ONNX graph acts as the eager agent, and the Python API
loads the run."""

import json
import os

import numpy as np
import pytest
import torch

from sensorimotor.agents.env_builder import normalizers
from sensorimotor.agents.registry import agent_spec, list_agents
from sensorimotor.app import api
from sensorimotor.app.loading import load_run
from sensorimotor.utils.checkpoint import list_checkpoints, load_checkpoint
from tests.helpers import run_cli


def test_the_registry_lists_the_built_in_agents_with_complete_entries():
    assert {"ppo", "dqn", "sac", "bc"} <= set(list_agents())
    for name in list_agents():
        spec = agent_spec(name)
        assert "smoke" in spec.presets and spec.summary and spec.runner in ("on_policy", "off_policy", "imitation")
        spec.presets["smoke"].validate()


@pytest.mark.parametrize("name", list_agents())
def test_train_resume_evaluate_export_for_every_agent(tmp_path, name):
    train_resume_evaluate_export(tmp_path, name, agent_spec(name).smoke_env)


@pytest.mark.parametrize("name", ["ppo", "sac"])
def test_ppo_and_sac_from_pixels_and_state_on_the_grasping_task(tmp_path, name):
    """The agents that also read ``Dict`` observations (camera + gripper state), QT-Opt's baselines."""
    pytest.importorskip("pybullet")
    # Fewer updates than the smoke presets' (a camera's convolutions cost more than an MLP's).
    lighter = {"ppo": ["--ppo.total-steps", "256", "--ppo.n-epochs", "1"],
               "sac": ["--sac.total-steps", "256", "--sac.learning-starts", "128", "--sac.train-every", "4",
                       "--sac.buffer-size", "4096"]}[name]
    # Resuming is the same path for every env (test_train_resume_evaluate_export_for_every_agent): not
    # repeated here, where each CLI run starts the grasping world's worker processes (~15 s).
    train_resume_evaluate_export(tmp_path, name, "KukaGraspCube-v0", lighter, total=256, resume=False)


def train_resume_evaluate_export(tmp_path, name, env_id, extra=(), total=None, resume=True):
    spec = agent_spec(name)
    run_dir = str(tmp_path / name)
    total = total or spec.presets["smoke"].total_steps
    result = run_cli("train", name, "--env", env_id, "--preset", "smoke", *extra, "--run-dir", run_dir,
                     "--checkpoint-every", str(total // 2), "--no-progress")
    assert result.returncode == 0, result.stderr[-3000:]
    saved = json.load(open(os.path.join(run_dir, "config.json")))
    assert saved["agent"] == name and saved[name]["total_steps"] == total

    # The update changed the parameters: the first and last checkpoints differ in every weight tensor
    # that trains (targets and normalizers aside).
    first, last = list_checkpoints(run_dir)[0], list_checkpoints(run_dir)[-1]
    w0, _ = load_checkpoint(first)
    w1, state = load_checkpoint(last)
    assert state["step"] >= total and state["agent"] == name
    assert sum(not torch.equal(w0[k], w1[k]) for k in w1) >= len(w1) // 2, "most weights should have moved"

    if resume:  # continues the step count (the run asks for more steps than it took)
        saved[name]["total_steps"] = 2 * total
        json.dump(saved, open(os.path.join(run_dir, "config.json"), "w"))
        result = run_cli("train", "--resume", run_dir)
        assert result.returncode == 0, result.stderr[-3000:]
        assert f"from step {state['step']}" in result.stdout
        rows = [json.loads(line) for line in open(os.path.join(run_dir, "metrics.jsonl"))]
        assert rows[-1]["step"] >= 2 * total and [r["step"] for r in rows] == sorted(r["step"] for r in rows)

    # Evaluate and export through the one path; the exported graph acts as the eager agent.
    result = run_cli("evaluate", run_dir, "--episodes", "2")
    assert result.returncode == 0, result.stderr[-3000:]
    assert json.loads(result.stdout)["agent"] == name
    result = run_cli("export", run_dir, "--formats", "onnx", "--robot-spec", "none")
    assert result.returncode == 0, result.stderr[-3000:]
    _exported_matches_eager(run_dir)

    # The Python API loads the same run and acts as the loaded agent does.
    policy = api.load(run_dir)
    run = load_run(run_dir)
    obs = run.env.reset(seed=3)
    expected = run.agent.predict(obs, deterministic=True)
    action, _ = policy.predict({k: v.numpy() for k, v in obs.items()} if isinstance(obs, dict) else _raw(run, obs).numpy())
    run.env.close()
    policy.close()
    np.testing.assert_allclose(np.asarray(action, dtype=np.float64), expected.cpu().numpy().astype(np.float64),
                               atol=1e-5)


def _raw(run, obs):
    """The env's raw observation behind ``obs`` (which a normalizer may have scaled)."""
    norm = normalizers(run.env).get("obs_norm")
    if norm is None:
        return obs
    return obs * torch.sqrt(norm.stats.var.float() + norm.eps) + norm.stats.mean.float()


def _exported_matches_eager(run_dir):
    onnxruntime = pytest.importorskip("onnxruntime")
    run = load_run(run_dir, num_envs=4)
    obs = run.env.reset(seed=1)
    session = onnxruntime.InferenceSession(os.path.join(run_dir, "export", "policy.onnx"))
    pixels = session.get_inputs()[0].type == "tensor(uint8)"  # camera policies take frames as they come
    eager, feeds = [], []
    for _ in range(20):
        action = run.agent.predict(obs, deterministic=True)
        eager.append(action.cpu().numpy())
        if isinstance(obs, dict):  # one graph input per observation part (QT-Opt's camera + state)
            feeds.append({f"obs_{k}": v.cpu().numpy() for k, v in obs.items()})
        else:
            feeds.append({"obs": obs.cpu().numpy() if pixels else _raw(run, obs).cpu().numpy().astype(np.float32)})
        obs = run.env.step(action)[0]
    run.env.close()
    exported = [session.run(None, feed)[0] for feed in feeds]
    np.testing.assert_allclose(np.concatenate(exported).astype(np.float64), np.concatenate(eager).astype(np.float64),
                               atol=1e-4)
