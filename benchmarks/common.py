"""What the side-by-side benchmarks share: timing our agent's train loop, and printing medians."""

from __future__ import annotations

import os
import platform
import statistics
import subprocess
import time

import torch


def time_ours(env_id: str, config, steps: int, seed: int, env_probe=None, backend: str | None = None) -> dict:
    """Train our PPO (recurrent when the config says so) for ``steps`` env steps after one warm-up
    rollout + update (compile time, reported apart). Returns steps/s and the collect / update shares.

    ``env_probe(env) -> seconds per env step`` may measure the bare env before training.
    """
    from sensorimotor.agents.env_builder import build_env
    from sensorimotor.agents.on_policy_runner import OnPolicyRunner
    from sensorimotor.agents.ppo import make_agent

    from sensorimotor.utils.threads import intra_op_threads

    torch.manual_seed(seed)
    env = build_env(env_id, config, backend=backend)
    # As the run pipeline does: one intra-op thread for small networks, all for convolutions over frames.
    torch.set_num_threads(intra_op_threads(tuple(env.single_observation_space.shape), config.device))
    agent = make_agent(config, env.single_observation_space, env.single_action_space)

    class Quiet:
        def log(self, step, metrics):
            pass

    runner = OnPolicyRunner(agent, env, Quiet(), save=lambda s: None, checkpoint_every=10**12,
                            seed=seed, progress_bar=False)
    per_env_step = env_probe(env) if env_probe else 0.0
    obs = env.reset(seed=seed)
    agent.reset_state(env.num_envs)
    started = time.perf_counter()
    obs = runner.collect(obs)
    agent.update(runner.storage)
    compile_seconds = time.perf_counter() - started

    t_collect = t_update = 0.0
    done, updates = 0, []
    while done < steps:
        t0 = time.perf_counter()
        obs = runner.collect(obs)
        t1 = time.perf_counter()
        agent.update(runner.storage)
        updates.append(time.perf_counter() - t1)
        t_collect += t1 - t0
        t_update += updates[-1]
        done += config.rollout_size
    env.close()
    total = t_collect + t_update
    t_env = min(per_env_step * done, t_collect)
    return {"steps_per_second": done / total, "compile_seconds": compile_seconds,
            "share_update": t_update / total, "share_env": t_env / total,
            "share_acting_and_storage": (t_collect - t_env) / total, "update_seconds": statistics.median(updates)}


def medians(runs: list[dict]) -> dict:
    return {k: statistics.median(r[k] for r in runs) for k in runs[0]}


def machine_line() -> str:
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    gpu = torch.cuda.get_device_name() if torch.cuda.is_available() else "no GPU"
    return f"machine: {os.cpu_count()} cores, {platform.processor() or platform.machine()}, {gpu}; commit {commit}"


def print_ratio(a_runs: list[dict], b_runs: list[dict], baseline: str) -> None:
    a, b = medians(a_runs), medians(b_runs)
    print(f"{baseline}: {b['steps_per_second']:.0f} steps/s")
    print(f"ratio: {a['steps_per_second'] / b['steps_per_second']:.1f}  (medians of {len(a_runs)}; "
          f"ours {[round(r['steps_per_second']) for r in a_runs]}, "
          f"{baseline} {[round(r['steps_per_second']) for r in b_runs]})")


def alternate(repeats: int, baseline, ours) -> tuple[list[dict], list[dict]]:
    """``repeats`` pairs of runs, the baseline first in each with torch's default threads (as its users
    run it); ``baseline(i)`` and ``ours(i)`` return dicts with ``steps_per_second``."""
    default_threads = torch.get_num_threads()
    a_runs, b_runs = [], []
    for i in range(repeats):
        torch.set_num_threads(default_threads)
        b_runs.append(baseline(i))
        a_runs.append(ours(i))
    return a_runs, b_runs
