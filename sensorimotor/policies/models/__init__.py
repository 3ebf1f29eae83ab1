from sensorimotor.policies.models.actor_critic import ActorCritic

__all__ = ["ActorCritic"]
