"""Distributed collection for the off-policy runner: Ray actors that act in their own envs with a copy
of the policy and stream whole episodes to the learner's replay (``ray_farm.py``)."""
