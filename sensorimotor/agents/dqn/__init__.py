from sensorimotor.agents.dqn.agent import DQN, td_targets
from sensorimotor.agents.dqn.config import DQN_ATARI, DQN_ATARI_GPU, DQN_BENCH, DQN_MINATAR, PRESETS, DQNConfig

__all__ = ["DQN", "DQNConfig", "DQN_ATARI", "DQN_ATARI_GPU", "DQN_BENCH", "DQN_MINATAR", "PRESETS", "td_targets"]
