from sensorimotor.agents.qtopt.agent import QTOpt, make_env
from sensorimotor.agents.qtopt.config import PRESETS, QTOptConfig, default_preset, training_threads

__all__ = ["PRESETS", "QTOpt", "QTOptConfig", "default_preset", "make_env", "training_threads"]
