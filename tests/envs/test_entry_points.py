"""A third-party package adds tasks and agents through entry points, without editing ours: a real
distribution (a ``.dist-info`` with ``entry_points.txt``) on the path of a fresh interpreter."""

import subprocess
import sys
import textwrap


def test_tasks_and_agents_from_another_package_are_registered(tmp_path):
    (tmp_path / "my_tasks.py").write_text(textwrap.dedent("""
        import gymnasium as gym
        from sensorimotor.envs import register

        register("MyCartPole-v0", lambda render_mode=None: gym.make("CartPole-v1", render_mode=render_mode),
                 tags=("classic", "mine"))
    """))
    (tmp_path / "my_agents.py").write_text(textwrap.dedent("""
        import dataclasses
        from sensorimotor.agents.registry import agent_spec, register_agent

        register_agent(dataclasses.replace(agent_spec("ppo"), name="myppo", summary="PPO under another name."))
    """))
    info = tmp_path / "my_package-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: my-package\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text("[sensorimotor.envs]\nmine = my_tasks\n\n"
                                           "[sensorimotor.agents]\nmine = my_agents\n")
    code = ("from sensorimotor.envs import list_envs, make_vec\n"
            "from sensorimotor.agents.registry import list_agents\n"
            "env = make_vec('MyCartPole-v0', 2)\n"
            "print(list_envs(tag='mine'), env.reset(seed=0).shape, 'myppo' in list_agents())\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300,
                            env={"PYTHONPATH": str(tmp_path), "PATH": "/usr/bin:/bin"})
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == "['MyCartPole-v0'] torch.Size([2, 4]) True"
