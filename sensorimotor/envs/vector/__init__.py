"""Vector backends, one file each: ``sync`` (gymnasium envs in-process) and ``mujoco`` (batched CPU)."""
