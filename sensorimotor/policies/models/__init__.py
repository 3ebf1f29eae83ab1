from sensorimotor.policies.models.actor_critic import ActorCritic, PilotNetActorCritic, PixelActorCritic
from sensorimotor.policies.models.recurrent_actor_critic import RecurrentActorCritic

__all__ = ["ActorCritic", "PilotNetActorCritic", "PixelActorCritic", "RecurrentActorCritic"]
