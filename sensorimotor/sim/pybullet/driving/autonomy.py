"""PilotNet's autonomy metric (Bojarski et al. 2016, section 7.1).

``autonomy = 1 - interventions x 6 s / elapsed time``: each intervention is charged six seconds, the
time a human takes to retake control, recentre the car and hand it back. The paper intervened when
the car was more than 1 m off the centre of its lane (~0.27 lane widths); our lanes are 1.0-1.4 m
wide for a 0.25 m wide car, so the threshold is set as that share of the lane width
(``DriveTaskConfig.intervention_fraction``), 0.27-0.38 m here.
"""

from __future__ import annotations

SECONDS_PER_INTERVENTION = 6.0


def autonomy(interventions: int, elapsed_seconds: float,
             seconds_per_intervention: float = SECONDS_PER_INTERVENTION) -> float:
    """The share of time the policy drove: 1 with no intervention, 0 (never below) when the charged
    time reaches the elapsed time. E.g. 10 interventions in 600 s: 1 - 60 / 600 = 0.9."""
    if elapsed_seconds <= 0:
        raise ValueError(f"elapsed time must be positive, got {elapsed_seconds} s.")
    if interventions < 0:
        raise ValueError(f"interventions cannot be negative, got {interventions}.")
    return max(0.0, 1.0 - interventions * seconds_per_intervention / elapsed_seconds)
