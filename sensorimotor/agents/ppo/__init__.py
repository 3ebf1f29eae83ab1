from sensorimotor.agents.ppo.agent import PPO
from sensorimotor.agents.ppo.config import PPOConfig
from sensorimotor.agents.ppo.presets import PRESETS, default_preset
from sensorimotor.agents.ppo.recurrent import RecurrentPPO


def make_agent(config: PPOConfig, observation_space, action_space) -> PPO:
    """A :class:`RecurrentPPO` when ``config.recurrent`` names a cell, else a :class:`PPO`."""
    if config.recurrent:
        from sensorimotor.errors import check

        check(not hasattr(observation_space, "spaces"), "recurrent PPO takes one observation (a vector or an "
              f"image), this task observes a Dict of {list(getattr(observation_space, 'spaces', {}))}.")
        return RecurrentPPO(config, observation_space, action_space)
    return PPO(config, observation_space, action_space)


__all__ = ["PPO", "PPOConfig", "PRESETS", "RecurrentPPO", "default_preset", "make_agent"]
