"""The arm farm: whole episodes out of collectors, a killed collector restarted with nothing
half-written, DQN and QT-Opt through the same collectors, and the bad-address line."""

from __future__ import annotations

import json
import os
import signal
import time

import pytest
import torch

from sensorimotor.agents.collectors.episodes import EpisodeAssembler, feed_episode
from sensorimotor.agents.collectors.ray_farm import Collector, acting_weights
from sensorimotor.agents.registry import agent_spec
from tests.helpers import run_cli

ray = pytest.importorskip("ray")


@pytest.fixture(scope="module")
def local_ray():
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


def test_the_assembler_hands_over_whole_episodes_only():
    assembler = EpisodeAssembler(2)
    assembler.start(torch.tensor([[0.0], [100.0]]))
    f = torch.tensor
    # Env 0 ends at the second step (final obs 2, reset obs 10); env 1 never ends.
    out = assembler.add(f([[0.5], [0.5]]), f([0.0, 0.0]), f([False, False]), f([False, False]),
                        f([[1.0], [101.0]]), f([[1.0], [101.0]]), f([False, False]))
    assert out == [] and assembler.partial == 2
    out = assembler.add(f([[0.7], [0.7]]), f([1.0, 0.0]), f([True, False]), f([False, False]),
                        f([[10.0], [102.0]]), f([[2.0], [102.0]]), f([True, False]))
    assert len(out) == 1 and assembler.partial == 1
    episode = out[0]
    assert episode["obs"][:, 0].tolist() == [0.0, 1.0, 2.0]
    assert episode["reward"].tolist() == [0.0, 1.0] and episode["terminated"].tolist() == [False, True]
    assert episode["reset"].tolist() == [False, True]


def test_collectors_get_the_acting_weights_only_and_keep_their_own_targets():
    # Built in this process (no Ray): the broadcast's contents and what a collector does with them.
    spec, config = agent_spec("dqn"), _dqn_config()
    collector = Collector("dqn", config, "CartPole-v1", num_envs=1, seed=0)
    env = spec.make_env("CartPole-v1", config, num_envs=1, backend="sync")
    learner = spec.build(config, env.single_observation_space, env.single_action_space)
    env.close()
    sent = acting_weights(learner)
    everything = learner.state_dict()["weights"]
    assert sent and set(sent) == {k for k in everything if k.startswith("q.")} < set(everything)
    own_targets = {k: v.clone() for k, v in collector.agent.state_dict()["weights"].items() if k.startswith("target.")}
    assert collector.set_weights({k: v.numpy() for k, v in sent.items()}, version=3, step=0) == 3
    got = collector.agent.state_dict()["weights"]
    assert all(torch.equal(got[k], v) for k, v in sent.items())
    assert all(torch.equal(got[k], v) for k, v in own_targets.items())
    assert not all(torch.equal(got[k], everything[k]) for k in own_targets)  # the learner's differ
    obs = torch.randn(5, 4)
    assert torch.equal(collector.agent.predict(obs), learner.predict(obs))
    collector.close()
    # QT-Opt sends its online Q (not the two lagged targets), SAC its actor (no critics).
    from sensorimotor.agents.qtopt.agent import QTOpt
    from sensorimotor.agents.sac.agent import SAC
    assert QTOpt.acting_weight_prefixes == ("q.",) and SAC.acting_weight_prefixes == ("actor.",)


def _dqn_config():
    spec = agent_spec("dqn")
    return spec.presets["smoke"]


def test_two_collectors_survive_a_killed_one_and_the_replay_gets_whole_episodes(local_ray):
    from sensorimotor.agents.collectors.ray_farm import ArmFarm

    spec, config = agent_spec("dqn"), _dqn_config()
    farm = ArmFarm("dqn", config, "CartPole-v1", collectors=2, envs_per_collector=2, seed=1, steps_per_call=8)
    try:
        learner_env = spec.make_env("CartPole-v1", config, num_envs=1, backend="sync")
        agent = spec.build(config, learner_env.single_observation_space, learner_env.single_action_space)
        replay = agent.make_replay(learner_env)
        farm.broadcast(acting_weights(agent), 0)
        farm.start()
        episodes = []
        deadline = time.time() + 120
        while len(episodes) < 10 and time.time() < deadline:
            episodes += farm.poll(timeout=1.0)
        assert len(episodes) >= 10 and farm.stats.restarts == 0
        victim = farm.pids()[0]
        os.kill(victim, signal.SIGKILL)
        before = farm.stats.per_collector_steps[0]
        while (farm.stats.restarts == 0 or farm.stats.per_collector_steps[0] == before) and time.time() < deadline:
            episodes += farm.poll(timeout=1.0)
        assert farm.stats.restarts == 1, "the killed collector's call should fail once and be restarted"
        assert farm.stats.per_collector_steps[0] > before, "the restarted collector collects again"
        assert victim not in farm.pids()
        farm.broadcast(acting_weights(agent), 100)
        assert farm.version == 1
        for episode in episodes:  # every episode whole: ends in a reset, one more observation than actions
            assert episode["reset"][-1] and not episode["reset"][:-1].any()
            assert len(episode["obs"]) == len(episode["action"]) + 1
            feed_episode(replay, episode, agent.stored_reward)
        assert len(replay) >= sum(len(e["action"]) for e in episodes) - len(episodes)
        learner_env.close()
    finally:
        farm.close()


def test_the_runner_trains_with_two_collectors_through_the_run_pipeline(local_ray, tmp_path):
    from sensorimotor.app.run_dir import RunArgs
    from sensorimotor.app.train import train
    from sensorimotor.utils.checkpoint import list_checkpoints

    config = _dqn_config()
    # The task option reaches the collectors' envs: Sutton and Barto's CartPole pays 0 a step and -1 at a
    # fall, so no episode returns more than 0 (the default pays +1 a step).
    run = RunArgs(env="CartPole-v1", env_options={"sutton_barto_reward": "true"}, run_dir=str(tmp_path / "farm"),
                  collectors=2, checkpoint_every=10_000, broadcast_every=4, progress=False)
    path = train("dqn", run, config)
    rows = [json.loads(line) for line in open(os.path.join(path, "metrics.jsonl"))]
    assert rows[-1]["step"] >= config.total_steps and rows[-1]["weights_version"] >= 1
    assert rows[-1]["collector_restarts"] == 0 and "loss" in rows[-1] and rows[-1]["episodes"] > 0
    returns = [row["episode_return"] for row in rows if "episode_return" in row]
    assert returns and max(returns) <= 0.0
    assert list_checkpoints(path)


def test_an_unreachable_ray_address_is_one_line(tmp_path):
    result = run_cli("train", "dqn", "--env", "CartPole-v1", "--preset", "smoke", "--collectors", "1",
                     "--ray-address", "127.0.0.1:1", "--run-dir", str(tmp_path / "r"))
    assert result.returncode == 2
    assert "cannot reach the Ray cluster at 127.0.0.1:1" in result.stderr and "Traceback" not in result.stderr


def test_collectors_are_refused_for_on_policy_agents(tmp_path):
    result = run_cli("train", "ppo", "--env", "CartPole-v1", "--preset", "smoke", "--collectors", "2",
                     "--run-dir", str(tmp_path / "r"))
    assert result.returncode == 2 and "--collectors is for off-policy agents" in result.stderr
