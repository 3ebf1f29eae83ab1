"""PyBullet worlds we own: camera grasping (``grasping/``). Importing this registers their ids; the
``pybullet`` module itself is imported only when a world is built."""

from sensorimotor.sim.pybullet.grasping import register_grasping_ids

register_grasping_ids()
