"""The ``mjx`` backend on JAX's CPU device: agreement with the CPU ``mujoco`` backend, autoreset and
statistics computed on the device, zero-copy DLPack, and clear errors for what MJX cannot do.

Compiling an MJX step on the CPU takes ~20-60 s per (task, env count) (Ant: minutes), so every test
here uses two envs of InvertedPendulum or HalfCheetah: each shape compiles once per process
(``mjx_core.core_for``). The other tasks' agreement runs with ``SENSORIMOTOR_TEST_ALL_MJX=1``.

Known and not ours to solve: with gymnasium's pyramidal friction cones, Ant's steps with foot-ground
contact differ from C MuJoCo by up to ~1 rad/s in joint velocity (contact-free steps agree to 1e-5):
the two engines pick different tangent axes for the contact frame, and a pyramidal cone is not
rotation-invariant (see docs/mjx.md). That case is marked xfail so that an upstream fix shows up; the
Ant task's own code (observation with contact forces, contact cost, termination) is checked with
elliptic cones on both engines, where the physics agrees.
"""

import os
import subprocess
import sys

import numpy as np
import pytest
import torch

from sensorimotor.envs import make_vec
from sensorimotor.envs.vector.mjx import mjx_available
from sensorimotor.errors import UserError

pytestmark = pytest.mark.skipif(not mjx_available(), reason="needs jax and mujoco-mjx (extra mjx)")

ALL_TASKS = os.environ.get("SENSORIMOTOR_TEST_ALL_MJX") == "1"
_ANT_CONTACTS = pytest.mark.xfail(strict=True, reason="Ant contact steps differ (see the module docstring)")
AGREEMENT = ["HalfCheetah-v5", "InvertedPendulum-v5"] + (
    ["Hopper-v5", "Walker2d-v5", "Humanoid-v5", pytest.param("Ant-v5", marks=_ANT_CONTACTS)] if ALL_TASKS else [])


def _states_of(cpu_env):
    return (np.stack([d.qpos for d in cpu_env.datas]), np.stack([d.qvel for d in cpu_env.datas]))


@pytest.mark.parametrize("env_id", AGREEMENT)
def test_one_step_from_equal_states_matches_the_cpu_backend(env_id):
    """Both backends, put in the same state, take the same action: same observation, reward, end."""
    _assert_steps_agree(make_vec(env_id, 2, backend="mujoco"), make_vec(env_id, 2, backend="mjx"))


@pytest.mark.skipif(not ALL_TASKS, reason="compiles Ant (minutes on 2 cores); set SENSORIMOTOR_TEST_ALL_MJX=1")
def test_ant_with_elliptic_friction_cones_matches_the_cpu_backend(tmp_path):
    """Ant's observation (with contact forces), reward (with contact cost) and termination computed on
    the device equal the CPU backend's when both engines use a rotation-invariant friction cone."""
    from sensorimotor.envs.vector.mjx import MjxVecEnv
    from sensorimotor.envs.vector.mujoco import MujocoVecEnv
    from sensorimotor.sim.locomotion.tasks import Ant

    xml = open(Ant.xml_path).read()
    option = '<option integrator="RK4" timestep="0.01"/>'
    assert option in xml, "gymnasium's ant.xml changed; update this test's cone edit"
    path = tmp_path / "ant_elliptic.xml"
    path.write_text(xml.replace(option, '<option integrator="RK4" timestep="0.01" cone="elliptic"/>'))
    EllipticAnt = type("EllipticAnt", (Ant,), {"xml_path": str(path)})
    _assert_steps_agree(MujocoVecEnv(EllipticAnt, 2), MjxVecEnv(EllipticAnt, 2), contacts_expected=True)


def _assert_steps_agree(cpu, mjx, steps: int = 40, contacts_expected: bool = False) -> None:
    """The CPU backend runs a random-action trajectory; before each step both backends are set to its
    state, so float32-vs-float64 differences cannot grow over time and the check stays tight. Episodes
    that end restart on both sides; the next step starts again from the CPU backend's state."""
    cpu.reset(seed=0)
    mjx.reset(seed=0)
    rng = np.random.default_rng(0)
    low, high = cpu.single_action_space.low, cpu.single_action_space.high
    contact_steps = 0
    for _ in range(steps):
        # Both from a forward pass at the same state: after its own step the CPU world's body
        # positions lag qpos by one substep (as in C MuJoCo), and Ant's reward reads them.
        qpos, qvel = _states_of(cpu)
        for i in range(cpu.num_envs):
            cpu.set_state(i, qpos[i], qvel[i])
        mjx.set_states(qpos, qvel)
        actions = torch.tensor(rng.uniform(low, high, (2, *low.shape)), dtype=torch.float32)
        _, cpu_reward, cpu_terminated, _, cpu_info = cpu.step(actions)
        _, mjx_reward, mjx_terminated, _, mjx_info = mjx.step(actions)
        expected = cpu_info["final_obs"].numpy()
        scale = 1.0 + np.abs(expected).max()
        np.testing.assert_allclose(mjx_info["final_obs"].numpy() / scale, expected / scale, atol=2e-3)
        np.testing.assert_allclose(mjx_reward.numpy(), cpu_reward.numpy(), rtol=1e-2, atol=1e-2)
        assert torch.equal(mjx_terminated, cpu_terminated)
        contact_steps += int(sum(d.ncon > 0 for d in cpu.datas))
    if contacts_expected:  # the comparison must have covered contact, or it proves nothing about it
        assert contact_steps >= steps // 4, f"only {contact_steps} of {cpu.num_envs * steps} env-steps had contact"


def test_free_running_trajectories_stay_together_over_a_short_horizon():
    cpu, mjx = make_vec("HalfCheetah-v5", 2, backend="mujoco"), make_vec("HalfCheetah-v5", 2, backend="mjx")
    cpu.reset(seed=0)
    mjx.reset(seed=0)
    mjx.set_states(*_states_of(cpu))
    rng = np.random.default_rng(1)
    for _ in range(10):
        actions = torch.tensor(rng.uniform(-1, 1, (2, 6)), dtype=torch.float32)
        cpu_obs = cpu.step(actions)[0]
        obs = mjx.step(actions)[0]
    np.testing.assert_allclose(obs.numpy(), cpu_obs.numpy(), atol=0.05 * (1 + cpu_obs.abs().max().item()))


def test_autoreset_and_episode_statistics_happen_on_the_device():
    env = make_vec("InvertedPendulum-v5", 2, backend="mjx")
    obs = env.reset(seed=3)
    push = torch.ones(2, 1) * 3.0  # full force: the pole falls within a few dozen steps
    steps, returns = torch.zeros(2, dtype=torch.int64), torch.zeros(2)
    finished = []
    for _ in range(200):
        obs, reward, terminated, truncated, info = env.step(push)
        steps += 1
        returns += reward
        for i in torch.nonzero(terminated).flatten().tolist():
            final = info["final_obs"][i]
            assert abs(final[1]) > 0.2  # the pole angle that ended it
            assert obs[i].abs().max() <= 0.01 + 1e-6  # a fresh start state: |noise| <= 0.01
            assert info["episode_length"][i] == steps[i]
            # Reward 1 per upright step, 0 on the step that falls (gymnasium's InvertedPendulum-v5).
            assert reward[i] == 0 and info["episode_return"][i] == returns[i] == steps[i] - 1
            finished.append(int(steps[i]))
            steps[i], returns[i] = 0, 0.0
        not_done = ~(terminated | truncated)
        assert torch.all(info["episode_length"][not_done] == 0)
        assert torch.equal(info["final_obs"][not_done], obs[not_done])
    assert len(finished) >= 4 and not truncated.any()
    assert obs.device == env.device and info["episode_length"].dtype == torch.int64


def test_truncation_at_the_time_limit_is_not_termination():
    env = make_vec("HalfCheetah-v5", 2, backend="mjx")
    env.reset(seed=0)
    total = torch.zeros(2)
    for t in range(1, 1001):
        _, reward, terminated, truncated, info = env.step(torch.zeros(2, 6))
        total += reward
        assert not terminated.any()
        assert bool(truncated.all()) == (t == 1000)
    assert torch.equal(info["episode_length"], torch.tensor([1000, 1000]))
    torch.testing.assert_close(info["episode_return"], total, rtol=1e-4, atol=1e-3)


def test_tensors_cross_between_jax_and_torch_without_a_copy():
    from sensorimotor.envs.vector.mjx import _torch

    env = make_vec("InvertedPendulum-v5", 2, backend="mjx")
    obs = env.reset(seed=0)
    assert obs.data_ptr() == env._state["obs"].unsafe_buffer_pointer()
    state, outputs = env._core.step(env._state, env._jnp.zeros((2, 1)))
    assert all(_torch(x).data_ptr() == x.unsafe_buffer_pointer() for x in outputs)
    actions = torch.randn(2, 1)
    assert env._jnp.from_dlpack(actions).unsafe_buffer_pointer() == actions.data_ptr()
    obs = env.step(actions)[0]
    # Returned tensors are never overwritten by later steps (JAX buffers are immutable).
    kept = obs.clone()
    for _ in range(3):
        env.step(torch.ones(2, 1))
    assert torch.equal(obs, kept)


def test_seeded_resets_repeat_and_renders_a_frame():
    env = make_vec("InvertedPendulum-v5", 2, backend="mjx", render_mode="rgb_array")
    first = env.reset(seed=7)
    assert torch.equal(env.reset(seed=7), first) and not torch.equal(env.reset(seed=8), first)
    frame = env.render()
    assert frame.shape == (480, 480, 3) and frame.dtype == np.uint8 and frame.std() > 0


def test_model_features_mjx_lacks_are_named():
    from sensorimotor.envs.vector.mjx import MjxVecEnv
    from sensorimotor.sim.locomotion.tasks import Humanoid

    class HumanoidAsWritten(Humanoid):
        mjx_options = {}  # humanoid.xml's own solver: PGS

    with pytest.raises(UserError, match="mjSOL_PGS"):
        MjxVecEnv(HumanoidAsWritten, 2)
    with_tolerance = type("HumanoidWithTolerance", (Humanoid,), {"mjx_options": {"tolerance": 1e-9}})
    with pytest.raises(UserError, match="unknown mjx option 'tolerance'"):
        MjxVecEnv(with_tolerance, 2)


def test_too_many_envs_are_refused_before_compiling():
    with pytest.raises(UserError, match=r"need about .* GiB .* use at most \d+ envs"):
        make_vec("Humanoid-v5", 10**9, backend="mjx")


def test_missing_jax_names_the_extra():
    # A real interpreter in which `import jax` fails, running the real CLI.
    code = ("import sys; sys.modules['jax'] = None; sys.argv = ['sensorimotor', 'train', 'ppo', '--env', "
            "'InvertedPendulum-v5', '--backend', 'mjx']; from sensorimotor.cli import main; raise SystemExit(main())")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "sensorimotor[mjx]" in lines[0], result.stderr


@pytest.mark.gpu
def test_cuda_envs_share_gpu_memory_with_torch():
    env = make_vec("HalfCheetah-v5", 1024, backend="mjx", device="cuda")
    obs = env.reset(seed=0)
    assert obs.is_cuda and obs.data_ptr() == env._state["obs"].unsafe_buffer_pointer()
    obs, reward, terminated, truncated, info = env.step(torch.zeros(1024, 6, device="cuda"))
    assert reward.is_cuda and info["final_obs"].is_cuda and obs.shape == (1024, 17)
