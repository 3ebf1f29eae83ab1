from sensorimotor.agents.sac.agent import SAC, make_env
from sensorimotor.agents.sac.config import PRESETS, SACConfig, default_preset, training_threads

__all__ = ["PRESETS", "SAC", "SACConfig", "default_preset", "make_env", "training_threads"]
