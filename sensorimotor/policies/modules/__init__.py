from sensorimotor.policies.modules.mlp import MLP, ACTIVATIONS

__all__ = ["ACTIVATIONS", "MLP"]
