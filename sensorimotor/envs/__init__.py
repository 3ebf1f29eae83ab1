"""Environments: the VecEnv contract, the registry, vector backends and wrappers."""

from sensorimotor.envs.core import VecEnv
from sensorimotor.envs.registry import list_envs, make, make_vec, register, spec

__all__ = ["VecEnv", "list_envs", "make", "make_vec", "register", "spec"]
