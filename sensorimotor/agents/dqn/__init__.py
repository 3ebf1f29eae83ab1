from sensorimotor.agents.dqn.agent import DQN, td_targets
from sensorimotor.agents.dqn.config import (DQN_ATARI, DQN_ATARI_GPU, DQN_BENCH, DQN_MINATAR, PRESETS, DQNConfig,
                                            default_preset)
from sensorimotor.agents.dqn.environment import evaluation_protocol, make_env

__all__ = ["DQN", "DQNConfig", "DQN_ATARI", "DQN_ATARI_GPU", "DQN_BENCH", "DQN_MINATAR", "PRESETS", "default_preset",
           "evaluation_protocol", "make_env", "td_targets"]
