"""VizDoom scenarios: pixels, truncation at the scenario's timeout, clear errors."""

import pytest

from sensorimotor.envs.doom import OBS_SHAPE, DoomEnv
from sensorimotor.errors import UserError


def test_missing_scenario_lists_the_shipped_ones():
    with pytest.raises(UserError, match="not found; shipped scenarios: .*my_way_home"):
        DoomEnv("no_such_map")


def test_timeout_is_a_truncation_and_frames_are_small_gray_pixels():
    env = DoomEnv("my_way_home", render_mode="rgb_array")
    obs, _ = env.reset(seed=0)
    assert obs.shape == OBS_SHAPE and obs.dtype.name == "uint8" and obs.std() > 0
    assert env.render().shape == (120, 160, 3)
    steps, terminated, truncated = 0, False, False
    while not (terminated or truncated):
        _, _, terminated, truncated, _ = env.step(2)  # keep walking forward: the goal is rarely found
        steps += 1
    env.close()
    # my_way_home times out after 2100 tics: 525 actions of 4 tics.
    assert truncated and not terminated and steps == 525
