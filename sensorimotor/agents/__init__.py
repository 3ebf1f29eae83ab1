"""Algorithms (config + loss + update) and the runners that drive them."""
