from sensorimotor.agents.ppo.agent import PPO
from sensorimotor.agents.ppo.config import PPOConfig
from sensorimotor.agents.ppo.presets import PRESETS, default_preset
from sensorimotor.agents.ppo.recurrent import RecurrentPPO


def make_agent(config: PPOConfig, observation_space, action_space) -> PPO:
    """A :class:`RecurrentPPO` when ``config.recurrent`` names a cell, else a :class:`PPO`."""
    cls = RecurrentPPO if config.recurrent else PPO
    return cls(config, observation_space, action_space)


__all__ = ["PPO", "PPOConfig", "PRESETS", "RecurrentPPO", "default_preset", "make_agent"]
