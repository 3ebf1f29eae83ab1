"""The arm farm's throughput: grasp episodes/s from 1, 2 and 4 Ray collectors while the learner trains
beside them, and the learner's updates/s with and without collectors, in one process run.

    .venv/bin/python benchmarks/arm_farm.py --seconds 60 --collectors 1 2 4

Each collector holds one ``KukaGraspAuto-v0`` env (its own process, ``sync`` backend) and a QT-Opt copy
acting with the CEM; the learner (this process) feeds their whole episodes into its replay and takes
QT-Opt updates (batch 64, the ``grasp-auto`` preset) as fast as it can, broadcasting weights every 50
updates. No incumbent ships a distributed camera-grasping collector, so the comparison is the learner
alone (updates/s with no collectors) and the collectors' scaling.
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch


def measure(collectors: int, seconds: float, warmup: float, env_id: str) -> dict[str, float]:
    from sensorimotor.agents.collectors.episodes import feed_episode
    from sensorimotor.agents.collectors.ray_farm import ArmFarm
    from sensorimotor.agents.registry import agent_spec

    spec = agent_spec("qtopt")
    config = spec.presets["grasp-auto"]
    env = spec.make_env(env_id, config, num_envs=1, backend="sync")
    agent = spec.build(config, env.single_observation_space, env.single_action_space)
    replay = agent.make_replay(env)
    farm = ArmFarm("qtopt", config, env_id, collectors, envs_per_collector=1, seed=0) if collectors else None
    try:
        if farm is None:  # the learner alone: fill the replay from one local env first
            obs = env.reset(seed=0)
            replay.start(obs)
            for _ in range(200):
                action = agent.explore(obs, 0)
                nxt, reward, term, trunc, info = env.step(action)
                replay.add(action, reward, term, trunc, nxt, info["final_obs"])
                obs = nxt
        else:
            farm.broadcast(agent.state_dict()["weights"], 0)
            farm.start()
        started, episodes, steps, updates = time.perf_counter(), 0, 0, 0
        measuring_from, counted = None, (0, 0, 0)
        while True:
            now = time.perf_counter()
            if measuring_from is None and now - started >= warmup:
                measuring_from, counted = now, (episodes, steps, updates)
            if measuring_from is not None and now - measuring_from >= seconds:
                break
            if farm is not None:
                for episode in farm.poll(timeout=0.0):
                    feed_episode(replay, episode)
                    episodes += 1
                    steps += len(episode["reward"])
            if len(replay) >= 64:
                agent.update(replay, 0)
                updates += 1
                if farm is not None and updates % 50 == 0:
                    farm.broadcast(agent.state_dict()["weights"], 0)
            else:
                time.sleep(0.05)
        elapsed = time.perf_counter() - measuring_from
        stale = farm.stats.stale_episodes if farm else 0
        return {"episodes_per_s": (episodes - counted[0]) / elapsed, "steps_per_s": (steps - counted[1]) / elapsed,
                "updates_per_s": (updates - counted[2]) / elapsed, "stale": stale}
    finally:
        if farm is not None:
            farm.close()
        env.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--warmup", type=float, default=20.0)
    parser.add_argument("--collectors", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--env", default="KukaGraspAuto-v0")
    args = parser.parse_args()
    import ray

    ray.init(include_dashboard=False, log_to_driver=False)
    torch.set_num_threads(torch.get_num_threads())
    rows = {}
    for n in [0, *args.collectors]:
        runs = [measure(n, args.seconds, args.warmup, args.env) for _ in range(args.repeats)]
        rows[n] = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
        r = rows[n]
        label = "learner alone" if n == 0 else f"{n} collector(s)"
        print(f"{label:>16}: {r['episodes_per_s']:.2f} grasp episodes/s ({r['steps_per_s']:.1f} env-steps/s), "
              f"learner {r['updates_per_s']:.2f} updates/s, stale episodes {r['stale']:.0f}", flush=True)
    alone = rows[0]["updates_per_s"]
    for n in args.collectors:
        print(f"arm_farm_{n}: {rows[n]['episodes_per_s']:.2f} episodes/s; learner at "
              f"{rows[n]['updates_per_s'] / max(alone, 1e-9):.2f}x its speed alone")
    ray.shutdown()


if __name__ == "__main__":
    main()
