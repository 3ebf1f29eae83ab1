"""Behaviour cloning and DAgger: one typed, frozen config (the CLI flags come from it) and presets."""

from __future__ import annotations

from dataclasses import dataclass, replace

from sensorimotor.errors import check
from sensorimotor.utils.device import check_device


@dataclass(frozen=True)
class BCConfig:
    """PilotNet behaviour cloning (Bojarski et al. 2016) and DAgger (Ross, Gordon & Bagnell 2011).

    Training is a sequence of iterations. Iteration 0 is behaviour cloning: expert demonstrations,
    from ``dataset`` (written by ``sensorimotor collect``) or driven by the expert in the run's envs.
    Each of the ``dagger_iterations`` after it lets the learner drive (the expert instead with
    probability ``beta_decay ** i``), labels every visited state with the expert's action, adds them
    to the aggregate and refits on all of it. ``dagger_iterations=0`` is plain behaviour cloning.
    """

    total_steps: int = 20_000
    """Expert labels in all (the label budget): split equally between the iterations."""
    num_envs: int = 2
    dagger_iterations: int = 0
    """Iterations after the first in which the learner drives and the expert labels (0: plain BC)."""
    beta_decay: float = 0.5
    """Iteration i lets the expert drive with probability beta_decay ** i (Ross et al.'s p^(i-1));
    iteration 0 is the expert's alone."""
    dataset: str | None = None
    """An episode dataset (``sensorimotor collect --policy expert``) for iteration 0, instead of driving
    the expert in the run's envs; its augmented views count as labels."""
    epochs: int = 4
    """Passes over the aggregate after each iteration."""
    batch_size: int = 128
    learning_rate: float = 3e-4
    weight_decay: float = 1e-5
    device: str = "cpu"

    def validate(self) -> None:
        for name in ("total_steps", "num_envs", "epochs", "batch_size", "learning_rate"):
            check(getattr(self, name) > 0, f"bc.{name} must be positive, got {getattr(self, name)}.")
        check(0 <= self.dagger_iterations <= 100, f"bc.dagger_iterations must be 0..100, got {self.dagger_iterations}.")
        check(0.0 <= self.beta_decay <= 1.0, f"bc.beta_decay must be in [0, 1], got {self.beta_decay}.")
        check(self.weight_decay >= 0, f"bc.weight_decay must be >= 0, got {self.weight_decay}.")
        check(self.total_steps >= self.iterations * self.num_envs,
              f"bc.total_steps {self.total_steps} is too small for {self.iterations} iterations of {self.num_envs} envs.")
        check_device(self.device, "--bc.device")

    @property
    def iterations(self) -> int:
        return self.dagger_iterations + 1

    @property
    def labels_per_iteration(self) -> int:
        return self.total_steps // self.iterations

    def beta(self, iteration: int) -> float:
        """Probability that the expert drives in ``iteration``: 1 in iteration 0 and in every iteration
        of plain behaviour cloning (a resumed BC run with a larger budget gathers more demonstrations)."""
        return 1.0 if iteration == 0 or self.dagger_iterations == 0 else self.beta_decay ** iteration


BC_DRIVE = BCConfig()
"""Behaviour cloning on the driving world: 20k expert frames, 4 epochs."""

DAGGER_DRIVE = replace(BC_DRIVE, dagger_iterations=4)
"""DAgger at BC's label budget: 4k expert frames, then 4 iterations of 4k learner-visited states."""

PRESETS = {"bc": BC_DRIVE, "dagger": DAGGER_DRIVE,
           "smoke": replace(BC_DRIVE, total_steps=64, dagger_iterations=1, epochs=1, batch_size=16)}


def default_preset(env_id: str, backend: str | None = None) -> str:
    return "bc"
