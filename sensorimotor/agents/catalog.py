"""The built-in agents, one registry entry each (see ``agents/registry.py``)."""

from __future__ import annotations

from sensorimotor.agents import bc, dqn, ppo, qtopt, sac
from sensorimotor.agents.env_builder import build_env
from sensorimotor.agents.registry import AgentSpec, register_agent

register_agent(AgentSpec(
    name="ppo", config_type=ppo.PPOConfig, presets=ppo.PRESETS, default_preset=ppo.default_preset,
    build=ppo.make_agent, make_env=build_env, runner="on_policy", dict_observations=True,
    summary="PPO (Schulman et al. 2017): MLP, Nature-CNN pixels, or LSTM/GRU memory (recurrent PPO).",
    smoke_env="CartPole-v1",
))

register_agent(AgentSpec(
    name="dqn", config_type=dqn.DQNConfig, presets=dqn.PRESETS, default_preset=dqn.default_preset,
    build=dqn.DQN, make_env=dqn.make_env, runner="off_policy",
    summary="DQN (Mnih et al. 2015) with double, dueling, n-step and prioritized replay; discrete actions.",
    smoke_env="CartPole-v1",
    run_defaults={"env": "ALE/Pong-v5", "checkpoint_every": 250_000},
    evaluation_protocol=dqn.evaluation_protocol,
))

register_agent(AgentSpec(
    name="sac", config_type=sac.SACConfig, presets=sac.PRESETS, default_preset=sac.default_preset,
    build=sac.SAC, make_env=sac.make_env, runner="off_policy", dict_observations=True,
    summary="SAC (Haarnoja et al. 2018): continuous control, twin critics, learned entropy coefficient.",
    smoke_env="Pendulum-v1",
    run_defaults={"env": "Pendulum-v1", "checkpoint_every": 50_000}, threads=sac.training_threads,
))

register_agent(AgentSpec(
    name="bc", config_type=bc.BCConfig, presets=bc.PRESETS, default_preset=bc.default_preset,
    build=bc.BehaviorCloning, make_env=bc.make_env, runner="imitation",
    summary="PilotNet behaviour cloning (Bojarski et al. 2016) and DAgger (Ross et al. 2011) from an env's expert.",
    smoke_env="RacecarDrive64-v0",
    run_defaults={"env": "RacecarDrive-v0"},
))

register_agent(AgentSpec(
    name="qtopt", config_type=qtopt.QTOptConfig, presets=qtopt.PRESETS, default_preset=qtopt.default_preset,
    build=qtopt.QTOpt, make_env=qtopt.make_env, runner="off_policy",
    summary="QT-Opt (Kalashnikov et al. 2018): grasping from a camera, CEM argmax, offline then online.",
    smoke_env="KukaGraspCube-v0",
    run_defaults={"env": "KukaGraspAuto-v0", "checkpoint_every": 10_000},
    threads=qtopt.training_threads, dict_observations=True,
))
