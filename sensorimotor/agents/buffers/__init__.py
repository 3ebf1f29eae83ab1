from sensorimotor.agents.buffers.replay import FrameReplay, ReplayBatch, replay_bytes_per_transition

__all__ = ["FrameReplay", "ReplayBatch", "replay_bytes_per_transition"]
