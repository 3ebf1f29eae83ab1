"""Every registered id, on every backend it has, keeps the VecEnv contract (DESIGN.md 2.1)."""

import gymnasium as gym
import numpy as np
import pytest
import torch

from sensorimotor.envs import list_envs, make_vec
from sensorimotor.envs.registry import backends_of
from sensorimotor.envs.vector.mjx import mjx_available

# Every id on sync and its native backends; the generic subproc backend on a few (each case spawns
# workers), and mjx on two (each task compiles for 20-60 s on the CPU; tests/envs/test_mjx.py has more).
SUBPROC_IDS = {"CartPole-v1", "Pendulum-v1", "HalfCheetah-v5", "Doom-Basic-v0"}
MJX_IDS = {"InvertedPendulum-v5", "HalfCheetah-v5"} if mjx_available() else set()
# The pybullet backend spawns two workers per case: two grasping ids (one per action layout) and a
# driving id show it.
PYBULLET_IDS = {"KukaGrasp-v0", "KukaGraspCube-v0", "RacecarDrive64-v0"}
LIMITED = {"subproc": SUBPROC_IDS, "mjx": MJX_IDS, "pybullet": PYBULLET_IDS}
CASES = [(env_id, backend) for env_id in list_envs() for backend in backends_of(env_id)
         if env_id in LIMITED.get(backend, {env_id})]
# PyBullet grasping costs ~15 ms an env step and ends episodes within 15 steps: shorter runs suffice,
# and the long-running checks take one id per action layout (the other variants are configurations
# of the same code; each still gets the contract, invalid-action and checker tests).
PYBULLET_TASKS = set(list_envs(tag="pybullet"))
PYBULLET_REPRESENTATIVES = {"KukaGrasp-v0", "KukaGraspCube-v0", "RacecarDrive-v0"}
LONG_CASES = [(i, b) for i, b in CASES if i not in PYBULLET_TASKS or i in PYBULLET_REPRESENTATIVES]


# CarRacing (box2d) renders each step in pygame (~10 ms) and ends episodes only after 1000 steps.
SHORT_RUN_TASKS = PYBULLET_TASKS | set(list_envs(tag="box2d"))


def steps_for(env_id, steps):
    return min(steps, 40) if env_id in SHORT_RUN_TASKS else steps


def parts(obs):
    """An observation's arrays by key (``None`` for a plain Box)."""
    return obs if isinstance(obs, dict) else {None: obs}


def space_parts(space):
    return space.spaces if isinstance(space, gym.spaces.Dict) else {None: space}


def clone(obs):
    return {k: v.clone() for k, v in parts(obs).items()}


def equal(a, b):
    a, b = parts(a), parts(b)
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def select(obs, rows):
    return {k: v.cpu()[rows] for k, v in parts(obs).items()}


def random_actions(env, generator):
    space = env.single_action_space
    if isinstance(space, gym.spaces.Discrete):
        return torch.randint(0, int(space.n), (env.num_envs,), generator=generator)
    low = torch.as_tensor(space.low)
    high = torch.as_tensor(space.high)
    return low + (high - low) * torch.rand((env.num_envs, *space.shape), generator=generator)


def rollout(env_id, backend, seed, steps=30):
    env = make_vec(env_id, 2, backend=backend)
    generator = torch.Generator().manual_seed(seed)
    obs = [parts(env.reset(seed=seed))]
    for _ in range(steps_for(env_id, steps)):
        obs.append(parts(env.step(random_actions(env, generator))[0]))
    env.close()
    return {k: torch.stack([o[k] for o in obs]) for k in obs[0]}


@pytest.mark.parametrize("env_id,backend", CASES)
def test_contract(env_id, backend):
    env = make_vec(env_id, 2, backend=backend)
    obs = env.reset(seed=1)
    spaces = space_parts(env.single_observation_space)
    assert parts(obs).keys() == spaces.keys()
    for key, value in parts(obs).items():
        assert value.shape == (2, *spaces[key].shape)
        # Pixels stay uint8 (the agent scales them); everything else is float32.
        pixels = spaces[key].dtype == np.uint8
        assert value.dtype == (torch.uint8 if pixels else torch.float32) and value.device == env.device
    generator = torch.Generator().manual_seed(0)
    previous, previous_copy = obs, clone(obs)
    for _ in range(5):
        obs, reward, terminated, truncated, info = env.step(random_actions(env, generator))
        assert reward.shape == (2,) and reward.dtype == torch.float32
        assert terminated.dtype == torch.bool and truncated.dtype == torch.bool
        for key, value in parts(obs).items():
            assert parts(info["final_obs"])[key].shape == value.shape
            assert value.data_ptr() != parts(info["final_obs"])[key].data_ptr()
        assert info["episode_return"].shape == (2,) and info["episode_length"].shape == (2,)
        # No aliasing: what an earlier call returned is not overwritten by a later one.
        assert equal(previous, previous_copy)
        previous, previous_copy = obs, clone(obs)
    env.close()


@pytest.mark.parametrize("env_id,backend", [case for case in LONG_CASES if case[1] != "mjx"])  # mjx: test_mjx.py
def test_episode_return_is_the_sum_of_the_raw_rewards(env_id, backend):
    """Over 210 random steps (Pendulum and the classic tasks end episodes within them), each reported episode return equals the rewards summed since that env's
    previous episode end (what the backend counts as one episode: ``episode_end`` where given)."""
    env = make_vec(env_id, 2, backend=backend)
    env.reset(seed=2)
    generator = torch.Generator().manual_seed(0)
    running = torch.zeros(2, dtype=torch.float64)
    for _ in range(steps_for(env_id, 210)):
        _, reward, terminated, truncated, info = env.step(random_actions(env, generator))
        running += reward.double().cpu()
        end = info.get("episode_end", terminated | truncated).cpu()
        reported = info["episode_return"].double().cpu()
        torch.testing.assert_close(reported[end], running[end], atol=1e-3, rtol=1e-5)
        assert torch.all(reported[~end] == 0)
        running[end] = 0.0
    env.close()


# pybullet: tests/envs/test_pybullet_backend.py checks it step for step against sync.
@pytest.mark.parametrize("env_id,backend", [case for case in LONG_CASES if case[1] != "pybullet"])
def test_seeding_is_deterministic(env_id, backend):
    assert equal(rollout(env_id, backend, 7), rollout(env_id, backend, 7))


@pytest.mark.parametrize("env_id,backend", [case for case in LONG_CASES if case[1] != "mjx"])  # mjx: test_mjx.py
def test_final_obs_equals_obs_where_no_episode_ended(env_id, backend):
    """Where an env did not reset, ``final_obs`` is ``obs``; the ale backend with life-loss terminals
    (lives end steps, games go on) is checked too. Before: stale frame stacks in the other envs' rows."""
    kwargs = {"life_loss_terminal": True} if backend == "ale" else {}
    env = make_vec(env_id, 2, backend=backend, **kwargs)
    env.reset(seed=3)
    generator = torch.Generator().manual_seed(3)
    for _ in range(steps_for(env_id, 120)):
        obs, _, terminated, truncated, info = env.step(random_actions(env, generator))
        reset = info.get("episode_end", terminated | truncated).cpu()
        assert equal(select(info["final_obs"], ~reset), select(obs, ~reset))
    env.close()


def invalid_actions(env):
    """Action batches every backend must refuse: too many rows, out of range, too long, non-finite."""
    space, n = env.single_action_space, env.num_envs
    if isinstance(space, gym.spaces.Discrete):
        return [torch.zeros(n + 1, dtype=torch.long), torch.full((n,), -1), torch.full((n,), int(space.n)),
                torch.zeros(n, 2, dtype=torch.long), torch.zeros(n)]
    shape = (n, *space.shape)
    nan, inf = torch.zeros(shape), torch.zeros(shape)
    nan[0, 0], inf[-1, -1] = float("nan"), float("inf")
    return [torch.zeros((n + 1, *space.shape)), torch.zeros((n, space.shape[0] + 1)), nan, inf]


@pytest.mark.parametrize("env_id,backend", CASES)
def test_invalid_actions_are_refused_in_one_line(env_id, backend):
    from sensorimotor.errors import UserError

    env = make_vec(env_id, 2, backend=backend)
    env.reset(seed=0)
    for actions in invalid_actions(env):
        with pytest.raises(UserError) as caught:
            env.step(actions)
        assert "\n" not in str(caught.value)
    env.step(random_actions(env, torch.Generator().manual_seed(0)))  # still usable afterwards
    env.close()


@pytest.mark.parametrize("env_id", list_envs())
def test_gymnasium_and_sb3_env_checkers_pass_on_every_single_env(env_id):
    import warnings

    from gymnasium.utils.env_checker import check_env as gymnasium_check
    from stable_baselines3.common.env_checker import check_env as sb3_check

    from sensorimotor.envs.registry import make

    env = make(env_id)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # advice (normalize the action box...), not failures
        gymnasium_check(env, skip_render_check=True)
        sb3_check(env, warn=False)
    env.close()


def test_an_id_registered_only_with_gymnasium_runs_on_sync_and_subproc(capsys):
    from gymnasium.envs.classic_control import CartPoleEnv

    gym.register("MyRecall-v0", entry_point=CartPoleEnv, max_episode_steps=50)
    for backend in ("sync", "subproc"):
        env = make_vec("MyRecall-v0", 2, backend=backend)
        assert env.reset(seed=0).shape == (2, 4)
        env.step(torch.zeros(2, dtype=torch.long))
        env.close()
    assert "registered with gymnasium, not with sensorimotor" in capsys.readouterr().err
