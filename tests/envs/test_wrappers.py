import torch

from sensorimotor.envs import make_vec
from sensorimotor.envs.wrappers import ClipAction, NormalizeObservation, ScaleReward


def test_normalizer_state_round_trip_and_freeze():
    env = NormalizeObservation(make_vec("Hopper-v5", 4, backend="mujoco"))
    env.reset(seed=0)
    for _ in range(50):
        env.step(torch.rand(4, 3) * 2 - 1)
    state = env.state_dict()
    fresh = NormalizeObservation(make_vec("Hopper-v5", 4, backend="mujoco"))
    fresh.load_state_dict(state)
    fresh.training = False
    raw = torch.randn(4, 11)
    assert torch.allclose(fresh.normalize(raw), env.normalize(raw))
    before = fresh.stats.mean.clone()
    fresh.reset(seed=1)
    fresh.step(torch.zeros(4, 3))
    assert torch.equal(fresh.stats.mean, before)  # frozen: evaluation does not move the statistics


def test_normalized_observations_are_standardized():
    # The running statistics are those of every raw observation seen (reset and steps), so those raw
    # observations normalized with the final statistics have mean 0 and std 1. (A late window of random
    # play is not standardized: the cheetah's pose drifts, which made an earlier form of this test flaky.)
    inner = make_vec("HalfCheetah-v5", 8, backend="mujoco")
    raws = []
    reset, step = inner.reset, inner.step

    def recording_reset(seed=None):
        raws.append(reset(seed=seed).clone())
        return raws[-1]

    def recording_step(actions):
        out = step(actions)
        raws.append(out[0].clone())
        return out

    inner.reset, inner.step = recording_reset, recording_step
    env = NormalizeObservation(inner)
    env.reset(seed=0)
    generator = torch.Generator().manual_seed(0)
    for _ in range(300):
        env.step(torch.rand(8, 6, generator=generator) * 2 - 1)
    everything = torch.cat(raws)
    normalized = env.normalize(everything)
    assert normalized.mean(0).abs().max() < 1e-3 and (normalized.std(0) - 1).abs().max() < 1e-2
    assert (everything.std(0) - 1).abs().max() > 0.5  # the raw observations were far from standardized


def test_scale_reward_keeps_raw_episode_statistics():
    env = ScaleReward(make_vec("CartPole-v1", 2), gamma=0.99)
    env.reset(seed=0)
    for _ in range(100):
        _, reward, terminated, truncated, info = env.step(torch.zeros(2, dtype=torch.int64))
        done = terminated | truncated
        if done.any():
            assert (info["episode_return"][done] >= 8).all()  # raw: 1 per step
            assert (reward < 1).all()  # scaled by the return std (>1 after a few steps)
            return
    raise AssertionError("no episode ended")


def test_clip_action_clips_to_bounds():
    inner = make_vec("Humanoid-v5", 1, backend="mujoco")  # ctrlrange +-0.4
    env = ClipAction(inner)
    env.reset(seed=0)
    env.step(torch.full((1, 17), 5.0))
    assert torch.allclose(torch.tensor(inner.datas[0].ctrl), torch.full((17,), 0.4, dtype=torch.float64))
