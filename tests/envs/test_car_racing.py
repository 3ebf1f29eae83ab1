"""CarRacing-Repeat4-v3: each action held 4 frames, rewards summed, the last 4 decisions' frames in gray."""

import gymnasium as gym
import numpy as np
import pytest

from sensorimotor.envs import make
from sensorimotor.envs.gymnasium_ids import BrakeDeadZone, OnePedal, RepeatAction
from sensorimotor.errors import UserError

pytest.importorskip("Box2D")


class Countdown(gym.Env):
    """Step k (1-based) pays reward k; the episode terminates at step ``length``."""

    observation_space = gym.spaces.Box(0, 100, (1,), np.float32)
    action_space = gym.spaces.Discrete(2)

    def __init__(self, length: int):
        self.length, self.t = length, 0

    def reset(self, *, seed=None, options=None):
        self.t = 0
        return np.zeros(1, np.float32), {}

    def step(self, action):
        self.t += 1
        return np.full(1, self.t, np.float32), float(self.t), self.t == self.length, False, {"t": self.t}


def test_repeat_action_sums_rewards_and_stops_at_the_episode_end():
    env = RepeatAction(Countdown(length=5), repeat=3)
    env.reset()
    observation, reward, terminated, _, info = env.step(0)
    assert (reward, terminated, info["t"], observation[0]) == (1 + 2 + 3, False, 3, 3)
    observation, reward, terminated, _, info = env.step(0)  # steps 4 and 5; 5 ends the episode
    assert (reward, terminated, info["t"], observation[0]) == (4 + 5, True, 5, 5)


def test_repeat_below_one_is_refused():
    with pytest.raises(UserError, match="repeat must be at least 1"):
        RepeatAction(Countdown(length=5), repeat=0)


def test_one_decision_is_four_frames_of_car_racing_in_gray():
    action = np.array([0.2, 0.5, 0.0], np.float32)
    raw = gym.make("CarRacing-v3")
    frame, _ = raw.reset(seed=3)
    frames, rewards = [frame], []
    for _ in range(4):
        frame, reward, *_ = raw.step(action)
        frames.append(frame)
        rewards.append(reward)
    gray = [np.sum(f * np.array([0.2125, 0.7154, 0.0721]), axis=-1).astype(np.uint8) for f in frames]

    env = make("CarRacing-Repeat4-v3")
    stack, _ = env.reset(seed=3)
    assert stack.shape == (4, 96, 96) and stack.dtype == np.uint8
    assert all(np.array_equal(stack[i], gray[0]) for i in range(4))  # the stack starts as 4 copies
    stack, reward, *_ = env.step(action)
    assert reward == pytest.approx(sum(rewards))
    assert np.array_equal(stack[-1], gray[4]) and np.array_equal(stack[-2], gray[0])


def test_drawing_only_the_last_frame_of_each_decision_changes_nothing():
    # Straight on at a third of the gas the car leaves the playfield (-100, terminated) at frame 310,
    # the second of its decision's four: that frame is drawn too.
    def episode(draw_last_frame_only):
        env = RepeatAction(gym.make("CarRacing-v3"), 4, draw_last_frame_only=draw_last_frame_only)
        frame, _ = env.reset(seed=5)
        out = [frame]
        for _ in range(120):
            frame, reward, terminated, truncated, _ = env.step(np.array([0.0, 0.3, 0.0]))
            out.append((frame, reward, terminated, truncated))
            if terminated or truncated:
                break
        env.close()
        return out

    fast, every = episode(True), episode(False)
    assert len(fast) == len(every) and every[-1][2], "the car should leave the playfield within 120 decisions"
    assert np.array_equal(fast[0], every[0])
    for (f1, r1, te1, tr1), (f2, r2, te2, tr2) in zip(fast[1:], every[1:]):
        assert np.array_equal(f1, f2) and r1 == r2 and (te1, tr1) == (te2, tr2)


def test_draw_last_frame_only_is_refused_for_an_env_that_does_not_draw_that_way():
    with pytest.raises(UserError, match="draw_last_frame_only is for CarRacing"):
        RepeatAction(Countdown(length=5), 2, draw_last_frame_only=True)


def test_one_pedal_is_gas_above_zero_and_brake_below():
    env = OnePedal(gym.make("CarRacing-v3"))
    assert env.action_space.shape == (2,)
    assert np.array_equal(env.action(np.array([0.5, 0.8])), np.float32([0.5, 0.8, 0.0]))
    assert np.array_equal(env.action(np.array([-1.0, -0.25])), np.float32([-1.0, 0.0, 0.25]))
    assert np.array_equal(env.action(np.array([2.0, -3.0])), np.float32([1.0, 0.0, 1.0]))  # clipped
    env.close()


def test_one_pedal_drives_the_same_race_as_the_three_actions_it_stands_for():
    pedals = [(0.0, 1.0)] * 10 + [(0.4, -0.5)] * 5 + [(-0.3, 0.6)] * 5
    one, three = make("CarRacing-Repeat4-v3", one_pedal=True), make("CarRacing-Repeat4-v3")
    assert one.action_space.shape == (2,) and three.action_space.shape == (3,)
    a, _ = one.reset(seed=3)
    b, _ = three.reset(seed=3)
    assert np.array_equal(a, b)
    for steering, pedal in pedals:
        a, ra, *_ = one.step(np.array([steering, pedal]))
        b, rb, *_ = three.step(np.array([steering, max(pedal, 0.0), max(-pedal, 0.0)]))
        assert np.array_equal(a, b) and ra == rb
    one.close(), three.close()


def test_brake_dead_zone_zeroes_small_brakes_and_rescales_the_rest():
    env = BrakeDeadZone(gym.make("CarRacing-v3"), 0.2)
    assert env.action_space.shape == (3,)
    assert np.allclose(env.action(np.array([0.5, 0.8, 0.15])), [0.5, 0.8, 0.0])
    assert np.allclose(env.action(np.array([-0.5, 0.0, 0.6])), [-0.5, 0.0, 0.5])  # (0.6 - 0.2) / 0.8
    assert np.allclose(env.action(np.array([0.0, 1.0, 1.0])), [0.0, 1.0, 1.0])
    env.close()


def test_brake_dead_zone_outside_zero_to_one_or_with_one_pedal_is_refused():
    with pytest.raises(UserError, match="brake_dead_zone"):
        BrakeDeadZone(gym.make("CarRacing-v3"), 1.0)
    with pytest.raises(UserError, match="do not combine"):
        make("CarRacing-Repeat4-v3", one_pedal=True, brake_dead_zone=0.1)


def test_a_brake_inside_the_dead_zone_drives_the_race_of_no_brake():
    zone, plain = make("CarRacing-Repeat4-v3", brake_dead_zone=0.1), make("CarRacing-Repeat4-v3")
    a, _ = zone.reset(seed=5)
    b, _ = plain.reset(seed=5)
    for _ in range(15):
        a, ra, *_ = zone.step(np.array([0.2, 1.0, 0.08]))
        b, rb, *_ = plain.step(np.array([0.2, 1.0, 0.0]))
        assert np.array_equal(a, b) and ra == rb
    zone.close(), plain.close()
