"""The arm farm: Ray actors that collect episodes for the off-policy runner's learner.

Each :class:`Collector` actor holds its own envs (its "bins": a ``sync`` VecEnv in its process) and a
copy of the agent built from the registry, acts with ``agent.explore`` and returns whole episodes
only (numpy arrays through Ray's object store; no torch module is ever pickled). The learner
(:class:`ArmFarm`, used by the runner) keeps one ``collect`` call in flight per collector, writes
what comes back into its replay, and broadcasts weights every ``broadcast_every`` updates as one
object (``ray.put`` once, every actor reads the same copy) with a version number: only the weights
acting needs (:func:`acting_weights`: QT-Opt's and DQN's online Q, SAC's actor), not the targets or
critics. Episodes that were acted with an older version than the newest broadcast are counted as stale.

A collector that dies is restarted by Ray (``max_restarts``); the call in flight fails, its finished
episodes never arrive, and the unfinished ones it reported holding are counted as dropped. Nothing
half-written reaches the replay, since only whole episodes ever leave a collector.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from sensorimotor.errors import UserError


def acting_weights(agent) -> dict[str, Any]:
    """The part of ``agent.state_dict()["weights"]`` a collector acts with: the keys under the agent's
    ``acting_weight_prefixes`` (e.g. ``("q.",)``), all of them for an agent that names none."""
    weights = agent.state_dict()["weights"]
    prefixes = getattr(agent, "acting_weight_prefixes", None)
    return weights if prefixes is None else {k: v for k, v in weights.items() if k.startswith(tuple(prefixes))}


def init_ray(address: str | None = None, num_cpus: int | None = None) -> None:
    """Connect to the Ray cluster at ``address``, or start a local one with this machine's cores."""
    try:
        import ray
    except ImportError:
        raise UserError("distributed collection needs Ray: pip install -e '.[ray]'.") from None
    if ray.is_initialized():
        return
    if address and address != "auto":
        _check_reachable(address)
    try:
        if address:
            ray.init(address=address, include_dashboard=False, log_to_driver=False)
        else:
            ray.init(num_cpus=num_cpus or os.cpu_count(), include_dashboard=False, log_to_driver=False)
    except (ConnectionError, RuntimeError, ValueError) as exc:
        where = f"the Ray cluster at {address}" if address else "a local Ray instance"
        raise UserError(f"cannot reach {where} ({str(exc).strip().splitlines()[0][:200]}); start one with "
                        "`ray start --head` or leave out --ray-address for a local one.") from None


def _check_reachable(address: str, timeout: float = 3.0) -> None:
    """One line, fast, for a cluster address nothing answers at (``ray.init`` would retry for minutes)."""
    import socket

    host, _, port = address.removeprefix("ray://").rpartition(":")
    if not host or not port.isdigit():
        raise UserError(f"--ray-address {address!r} is not HOST:PORT (e.g. 10.0.0.5:6379, as `ray start --head` prints).")
    try:
        socket.create_connection((host, int(port)), timeout=timeout).close()
    except OSError as exc:
        raise UserError(f"cannot reach the Ray cluster at {address} ({exc.strerror or exc}); start one with "
                        "`ray start --head` or leave out --ray-address for a local one.") from None


class Collector:
    """One collector process (wrapped as a Ray actor by :func:`_actor_class`).

    Args:
        agent_name: the registry name of the agent to act with.
        config: the agent's config (its ``num_envs`` is replaced by ``num_envs``).
        env_id: the task; ``num_envs`` envs in this process (``sync`` backend).
        seed: of this collector's envs (the learner gives each collector its own).
        env_options: options for the task's constructor (the run's ``--env-options``).
    """

    def __init__(self, agent_name: str, config: Any, env_id: str, num_envs: int, seed: int,
                 env_options: dict | None = None):
        import dataclasses

        import torch

        from sensorimotor.agents.collectors.episodes import EpisodeAssembler
        from sensorimotor.agents.registry import agent_spec

        torch.set_num_threads(1)  # one core per collector; the learner keeps its own
        spec = agent_spec(agent_name)
        config = dataclasses.replace(config, num_envs=num_envs, device="cpu")
        self.env = spec.make_env(env_id, config, num_envs=num_envs, backend="sync", env_options=env_options)
        self.agent = spec.build(config, self.env.single_observation_space, self.env.single_action_space)
        self.assembler = EpisodeAssembler(num_envs)
        self.version, self.step = -1, 0
        self.obs = self.env.reset(seed=seed)
        self.assembler.start(self.obs)

    def set_weights(self, weights: dict[str, np.ndarray], version: int, step: int) -> int:
        """Act with ``weights`` (:func:`acting_weights` of the learner, as numpy) from now on; weights not
        given (targets, critics) stay as they are."""
        import torch

        merged = self.agent.state_dict()["weights"]  # the collector's own copy of what is not broadcast
        merged.update({k: torch.from_numpy(np.asarray(v)) for k, v in weights.items()})
        self.agent.load_state_dict({"weights": merged})
        self.version, self.step = version, step
        return version

    def collect(self, steps: int) -> dict[str, Any]:
        """``steps`` vector steps; returns the episodes they completed, the weights version acted with,
        the env steps taken and the unfinished episodes held."""
        episodes, taken, started = [], 0, time.perf_counter()
        n = self.env.num_envs
        for _ in range(steps):
            action = self.agent.explore(self.obs, self.step)
            next_obs, reward, terminated, truncated, info = self.env.step(action)
            reset = info.get("episode_end", terminated | truncated)
            episodes += self.assembler.add(action, reward, terminated, truncated, next_obs, info["final_obs"], reset)
            self.obs = next_obs
            self.step += n
            taken += n
        return {"episodes": episodes, "version": self.version, "env_steps": taken, "partial": self.assembler.partial,
                "pid": os.getpid(), "seconds": time.perf_counter() - started}

    def pid(self) -> int:
        return os.getpid()

    def close(self) -> None:
        self.env.close()


def _actor_class(cpus: float):
    import ray

    return ray.remote(num_cpus=cpus, max_restarts=-1, max_task_retries=0)(Collector)


@dataclass
class FarmStats:
    """Counters since the run started (the runner logs them)."""

    episodes: int = 0
    env_steps: int = 0
    stale_episodes: int = 0
    """Episodes acted with weights older than the newest broadcast."""
    restarts: int = 0
    dropped_partial_episodes: int = 0
    """Unfinished episodes held by collectors that died (never written anywhere)."""
    broadcasts: int = 0
    per_collector_steps: list[int] = field(default_factory=list)


class ArmFarm:
    """The learner's side: ``collectors`` Ray actors with ``envs_per_collector`` envs each.

    Args:
        agent_name, config, env_id: what every collector builds.
        collectors: actors to start; ``envs_per_collector``: envs in each.
        seed: collector ``i`` seeds its envs with ``seed + 10_000 * (i + 1)``.
        steps_per_call: vector steps per ``collect`` call (a round trip's worth of work).
        address: a Ray cluster to join (None: a local one with this machine's cores).
        env_options: options for the task's constructor, the same in every collector.
    """

    def __init__(self, agent_name: str, config: Any, env_id: str, collectors: int, envs_per_collector: int = 1,
                 seed: int = 0, steps_per_call: int = 16, address: str | None = None,
                 env_options: dict | None = None):
        import ray

        if collectors < 1:
            raise UserError(f"--collectors must be at least 1, got {collectors}.")
        init_ray(address)
        self.ray = ray
        cores = ray.cluster_resources().get("CPU", 1.0)
        actor = _actor_class(min(1.0, cores / collectors))  # more collectors than cores share them
        self.actors = [actor.remote(agent_name, config, env_id, envs_per_collector, seed + 10_000 * (i + 1),
                                    env_options) for i in range(collectors)]
        self.steps_per_call = steps_per_call
        self.stats = FarmStats(per_collector_steps=[0] * collectors)
        self.version = -1
        self._weights_ref = None
        self._step = 0
        self._partial = [0] * collectors  # unfinished episodes each collector last reported
        self._in_flight: dict[Any, int] = {}

    def broadcast(self, weights: dict[str, Any], step: int) -> None:
        """Send new weights (tensors or arrays) to every collector; each acts with them from its next call."""
        self.version += 1
        arrays = {k: (v.detach().cpu().numpy() if hasattr(v, "detach") else np.asarray(v)) for k, v in weights.items()}
        self._weights_ref, self._step = self.ray.put(arrays), step
        self.ray.get([a.set_weights.remote(self._weights_ref, self.version, step) for a in self.actors])
        self.stats.broadcasts += 1

    def start(self) -> None:
        for i in range(len(self.actors)):
            self._submit(i)

    def _submit(self, i: int) -> None:
        self._in_flight[self.actors[i].collect.remote(self.steps_per_call)] = i

    def poll(self, timeout: float = 0.0) -> list[dict[str, Any]]:
        """The whole episodes of every call finished within ``timeout`` seconds (each collector is given
        its next call at once); a dead collector's call is dropped and the collector, restarted by Ray,
        gets the newest weights and a new call."""
        ray = self.ray
        ready, _ = ray.wait(list(self._in_flight), num_returns=len(self._in_flight), timeout=timeout)
        episodes = []
        for ref in ready:
            i = self._in_flight.pop(ref)
            try:
                result = ray.get(ref)
            except (ray.exceptions.RayActorError, ray.exceptions.ActorUnavailableError):
                self.stats.restarts += 1
                self.stats.dropped_partial_episodes += self._partial[i]
                self._partial[i] = 0
                self._revive(i)
                continue
            self._partial[i] = result["partial"]
            self.stats.episodes += len(result["episodes"])
            self.stats.env_steps += result["env_steps"]
            self.stats.per_collector_steps[i] += result["env_steps"]
            if result["version"] < self.version:
                self.stats.stale_episodes += len(result["episodes"])
            episodes += result["episodes"]
            self._submit(i)
        return episodes

    def _revive(self, i: int, attempts: int = 600) -> None:
        """Wait for Ray to restart collector ``i`` (its constructor builds its envs again), then give it
        the newest weights and a new call."""
        ray = self.ray
        for _ in range(attempts):
            try:
                if self._weights_ref is not None:
                    ray.get(self.actors[i].set_weights.remote(self._weights_ref, self.version, self._step))
                else:
                    ray.get(self.actors[i].pid.remote())
                break
            except (ray.exceptions.RayActorError, ray.exceptions.ActorUnavailableError):
                time.sleep(0.1)
        self._submit(i)

    def pids(self) -> list[int]:
        return self.ray.get([a.pid.remote() for a in self.actors])

    def close(self) -> None:
        for actor in self.actors:
            try:
                self.ray.kill(actor, no_restart=True)
            except Exception:  # noqa: BLE001 - an actor already gone
                pass
        self.actors, self._in_flight = [], {}
