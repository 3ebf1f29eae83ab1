from sensorimotor.policies.models.actor_critic import ActorCritic, PixelActorCritic
from sensorimotor.policies.models.recurrent_actor_critic import RecurrentActorCritic

__all__ = ["ActorCritic", "PixelActorCritic", "RecurrentActorCritic"]
