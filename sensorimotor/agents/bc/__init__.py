from sensorimotor.agents.bc.agent import BehaviorCloning, make_env
from sensorimotor.agents.bc.config import PRESETS, BCConfig, default_preset

__all__ = ["PRESETS", "BCConfig", "BehaviorCloning", "default_preset", "make_env"]
