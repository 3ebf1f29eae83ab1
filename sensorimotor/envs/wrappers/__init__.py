"""VecEnv wrappers that run on the device: normalization, reward scaling, action clipping, video."""

from sensorimotor.envs.wrappers.action import ClipAction
from sensorimotor.envs.wrappers.base import VecEnvWrapper
from sensorimotor.envs.wrappers.normalize import NormalizeObservation, ScaleReward
from sensorimotor.envs.wrappers.video import RecordVideo

__all__ = ["ClipAction", "NormalizeObservation", "RecordVideo", "ScaleReward", "VecEnvWrapper"]
