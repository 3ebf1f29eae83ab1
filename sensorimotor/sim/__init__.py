"""Simulated worlds we own: task definitions over MuJoCo (and later PyBullet) physics."""
