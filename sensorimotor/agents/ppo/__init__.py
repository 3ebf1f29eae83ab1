from sensorimotor.agents.ppo.agent import PPO
from sensorimotor.agents.ppo.config import PPOConfig
from sensorimotor.agents.ppo.presets import PRESETS, preset_for

__all__ = ["PPO", "PPOConfig", "PRESETS", "preset_for"]
