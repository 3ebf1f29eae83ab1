"""PyBullet worlds we own: camera grasping (``grasping/``) and driving (``driving/``). Importing this
registers their ids; the ``pybullet`` module itself is imported only when a world is built."""

from sensorimotor.sim.pybullet.driving import register_driving_ids
from sensorimotor.sim.pybullet.grasping import register_grasping_ids

register_grasping_ids()
register_driving_ids()
