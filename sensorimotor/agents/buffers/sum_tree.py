"""A sum tree over replay slots: sample a slot with probability proportional to its priority in
O(log n), update priorities in O(log n) (Schaul et al. 2016, proportional variant).

The tree is a flat float64 array of ``2 * size`` nodes: node 1 is the root, node ``i`` has children
``2i`` and ``2i + 1``, and the leaves ``size .. 2 * size - 1`` hold the priorities. ``size`` is the
capacity rounded up to a power of two so every leaf sits at the same depth.

Parents are recomputed from their children on every update (never adjusted by differences), so
rounding errors do not accumulate over millions of updates. Batches of leaves are updated and
searched level by level with NumPy: a handful of small array operations per level, no Python loop
over the batch. The tree lives in host memory whatever device the replay uses (it is small: 16
bytes per slot).
"""

from __future__ import annotations

import numpy as np


class SumTree:
    """Args:
        capacity: number of leaves (replay slots), each starting at priority 0 (never sampled).
    """

    def __init__(self, capacity: int):
        self.capacity = capacity
        self.size = 1 << max(0, (capacity - 1).bit_length())
        self.depth = self.size.bit_length() - 1  # levels below the root
        self.nodes = np.zeros(2 * self.size, dtype=np.float64)

    @property
    def total(self) -> float:
        """Sum of all priorities."""
        return float(self.nodes[1])

    def get(self, leaf: np.ndarray) -> np.ndarray:
        """Priorities ``float64 [B]`` of leaves ``[B]``."""
        return self.nodes[self.size + np.asarray(leaf, dtype=np.int64)]

    def set(self, leaf: np.ndarray, priority: np.ndarray) -> None:
        """Set leaves ``[B]`` to ``priority`` ``[B]`` (>= 0); with repeated leaves the last write wins."""
        node = self.size + np.asarray(leaf, dtype=np.int64).ravel()
        priority = np.broadcast_to(np.asarray(priority, dtype=np.float64), node.shape)
        if np.any(~np.isfinite(priority)) or np.any(priority < 0):
            raise ValueError("priorities must be finite and non-negative")
        self.nodes[node] = priority
        for _ in range(self.depth):
            node = np.unique(node // 2)
            self.nodes[node] = self.nodes[2 * node] + self.nodes[2 * node + 1]

    def find(self, mass: np.ndarray) -> np.ndarray:
        """Leaves ``int64 [B]`` where the running sum of priorities first exceeds ``mass`` ``[B]``
        (each in ``[0, total)``): leaf ``i`` is hit with probability ``priority_i / total`` when
        ``mass`` is uniform."""
        mass = np.array(mass, dtype=np.float64)
        node = np.ones(mass.shape, dtype=np.int64)
        for _ in range(self.depth):
            left = self.nodes[2 * node]
            go_right = (mass >= left) & (self.nodes[2 * node + 1] > 0)
            mass = np.where(go_right, mass - left, mass)
            node = 2 * node + go_right
        return node - self.size

    def stratified(self, count: int, rng: np.random.Generator) -> np.ndarray:
        """``count`` leaves, one drawn uniformly by mass from each of ``count`` equal slices of the total
        (lower variance than independent draws)."""
        edges = np.arange(count, dtype=np.float64) / count
        mass = (edges + rng.random(count) / count) * self.total
        return self.find(np.minimum(mass, np.nextafter(self.total, 0)))
