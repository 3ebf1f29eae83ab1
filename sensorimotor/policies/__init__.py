"""Networks: ``modules/`` (layers that know nothing of RL) and ``models/`` (actor-critic, Q, ...)."""
