"""Pictures of what the grasping agent sees: the 64x64 camera at several seeds, plain and with domain
randomization, next to a 256x256 render of the same view (``docs/images/grasp_views.png``).

    .venv/bin/python scripts/grasp_camera_views.py --seeds 0 1 2 3 --out docs/images/grasp_views.png
"""

from __future__ import annotations

import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from sensorimotor.envs import make  # noqa: E402


def views(env_id: str, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(observation ``[64, 64, 3]``, render ``[256, 256, 3]``) after a reset with ``seed``."""
    env = make(env_id, render_mode="rgb_array", reset_mode="fresh")
    obs, _ = env.reset(seed=seed)
    frame = env.render()
    env.close()
    return obs["pixels"].transpose(1, 2, 0), frame


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3])
    parser.add_argument("--out", default="docs/images/grasp_views.png")
    args = parser.parse_args()
    from PIL import Image

    rows = []
    for seed in args.seeds:
        plain, _ = views("KukaGrasp-v0", seed)
        randomized, render = views("KukaGraspRandomized-v0", seed)
        up = lambda image: np.kron(image, np.ones((4, 4, 1), np.uint8))  # noqa: E731 - 64 -> 256, pixels kept sharp
        gap = np.full((256, 8, 3), 255, np.uint8)
        rows.append(np.concatenate([up(plain), gap, up(randomized), gap, render], axis=1))
        rows.append(np.full((8, rows[-1].shape[1], 3), 255, np.uint8))
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    Image.fromarray(np.concatenate(rows[:-1], axis=0)).save(args.out)
    print(f"wrote {args.out}: rows = seeds {args.seeds}; columns = KukaGrasp-v0 observation (64x64, shown 4x), "
          "KukaGraspRandomized-v0 observation, its 256x256 render")


if __name__ == "__main__":
    main()
