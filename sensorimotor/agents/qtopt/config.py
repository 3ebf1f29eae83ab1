"""QT-Opt configuration: one typed, frozen dataclass (the CLI flags are generated from it) and presets."""

from __future__ import annotations

from dataclasses import dataclass, replace

from sensorimotor.agents.qtopt.cem import CEMSettings
from sensorimotor.errors import check
from sensorimotor.utils.device import check_device


@dataclass(frozen=True)
class QTOptConfig:
    """QT-Opt (Kalashnikov et al. 2018): Q-learning over continuous actions from a camera, the max over
    actions by the cross-entropy method, clipped double Q with two lagged target networks, sigmoid
    outputs trained with cross-entropy on 0/1 grasp rewards.

    A run may start offline: ``offline_updates`` gradient steps on the episodes of ``dataset`` before
    any env step, then ``total_steps`` env steps of on-policy collection (epsilon-greedy CEM) with
    batches that mix the two at ``online_fraction``.
    """

    total_steps: int = 50_000
    """Environment steps (summed over all envs) collected online after the offline phase (0: none)."""
    num_envs: int = 8
    buffer_size: int = 100_000
    """Online replay slots (one per step plus one per episode; ~12.3 kB each at 64x64)."""
    learning_starts: int = 1_000
    """Environment steps before the first online update; without offline data they take uniformly random
    actions (with a dataset the CEM acts from the first step)."""
    batch_size: int = 64
    train_every: int = 4
    """Environment steps per gradient update online."""
    gamma: float = 0.9
    step_penalty: float = 0.0
    """Subtracted from every step's reward in the Bellman target (QT-Opt's incentive to grasp sooner)."""
    learning_rate: float = 3e-4
    tau: float = 0.005
    """Polyak factor of the first target network, after every update."""
    target_lag: int = 1_000
    """Updates between copies of the first target network into the second (the older, lagged one)."""
    epsilon: float = 0.2
    """Share of online steps that take a uniformly random action instead of the CEM's."""
    cem_samples: int = 64
    cem_elites: int = 6
    cem_iterations: int = 2
    fusion: str = "late"
    """Where the action joins the image: ``late`` (after the convolutions) or ``tiled`` (added to the
    feature map before the last convolution, as Levine et al. and QT-Opt do)."""
    hidden: int = 256
    augment_shift: int = 4
    """Pixels each training image is shifted by at random (replicate-padded, then cropped back; Kostrikov
    et al.'s DrQ augmentation), the current and next image independently; 0: off."""
    binary_actions: tuple[int, ...] = ()
    """Action components the env thresholds at 0 (QT-Opt's gripper close and terminate): the CEM
    proposes only -1 or +1 for them."""
    dataset: tuple[str, ...] = ()
    """Episode datasets (``sensorimotor collect``) for the offline part of the replay."""
    dataset_episodes: int = 0
    """Episodes to load from the datasets in all, in equal shares (0: every whole episode)."""
    offline_updates: int = 0
    """Gradient steps on the offline data alone before the first env step."""
    online_fraction: float = 0.5
    """Share of each batch from the run's own data once it has some (with offline data)."""
    device: str = "cpu"

    def validate(self) -> None:
        for name in ("num_envs", "buffer_size", "batch_size", "train_every", "learning_rate", "hidden", "target_lag"):
            check(getattr(self, name) > 0, f"qtopt.{name} must be positive, got {getattr(self, name)}.")
        for name in ("total_steps", "learning_starts", "dataset_episodes", "offline_updates", "step_penalty",
                     "augment_shift"):
            check(getattr(self, name) >= 0, f"qtopt.{name} must be >= 0, got {getattr(self, name)}.")
        check(self.total_steps > 0 or self.offline_updates > 0,
              "qtopt: nothing to do: give --qtopt.total-steps or --qtopt.offline-updates (with --qtopt.dataset).")
        check(self.offline_updates == 0 or bool(self.dataset),
              "qtopt.offline_updates needs episodes to learn from: name them with --qtopt.dataset DIR.")
        check(0.0 < self.gamma <= 1.0, f"qtopt.gamma must be in (0, 1], got {self.gamma}.")
        check(0.0 < self.tau <= 1.0, f"qtopt.tau must be in (0, 1], got {self.tau}.")
        check(0.0 <= self.epsilon <= 1.0, f"qtopt.epsilon must be in [0, 1], got {self.epsilon}.")
        check(0.0 <= self.online_fraction <= 1.0, f"qtopt.online_fraction must be in [0, 1], got {self.online_fraction}.")
        check(self.fusion in ("late", "tiled"), f"qtopt.fusion must be 'late' or 'tiled', got {self.fusion!r}.")
        check(all(i >= 0 for i in self.binary_actions), f"qtopt.binary_actions must be indices >= 0, got {self.binary_actions}.")
        self.cem.validate("qtopt.cem")
        check_device(self.device, "--qtopt.device")

    @property
    def cem(self) -> CEMSettings:
        return CEMSettings(samples=self.cem_samples, elites=self.cem_elites, iterations=self.cem_iterations)


QTOPT_GRASP = QTOptConfig(binary_actions=(4, 5))
"""QT-Opt's action layout (``KukaGrasp-v0``: dx, dy, dz, dyaw, gripper, terminate; the last two binary)."""

QTOPT_GRASP_AUTO = QTOptConfig()
"""Quillen et al.'s layout (``KukaGraspAuto-v0``, ``KukaGraspCube-v0``: dx, dy, dyaw; the arm descends
and grasps by itself): no binary components."""

PRESETS = {
    "grasp": QTOPT_GRASP,
    "grasp-auto": QTOPT_GRASP_AUTO,
    "smoke": replace(QTOPT_GRASP_AUTO, total_steps=96, num_envs=2, learning_starts=32, batch_size=8, train_every=8,
                     buffer_size=256, hidden=32, cem_samples=16, cem_elites=4),
}


def default_preset(env_id: str, backend: str | None = None) -> str:
    """``grasp`` for tasks with QT-Opt's gripper/terminate actions, ``grasp-auto`` otherwise."""
    from sensorimotor.sim.pybullet.grasping import task_layout

    return "grasp" if task_layout(env_id) == "qtopt" else "grasp-auto"


def training_threads(obs_shape: tuple[int, ...], config: QTOptConfig) -> int:
    """All of torch's threads: every update runs convolutions over three batches of camera images."""
    import torch

    return torch.get_num_threads()
