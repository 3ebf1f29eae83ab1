"""Saving and restoring a run's checkpoint for any agent, through ``agent.state_dict()`` alone.

``state.pt`` holds the agent's state without its weights (optimizer, counters), ``step``, ``agent``
(the registry name), ``rng`` and the env's normalizers (``obs_norm``, ``reward_norm``); the weights go
to ``weights.safetensors``; an off-policy run's replay to ``replay.safetensors`` (newest checkpoint only).
"""

from __future__ import annotations

from typing import Any

from sensorimotor.agents.env_builder import normalizers
from sensorimotor.errors import UserError
from sensorimotor.utils.checkpoint import load_checkpoint, load_extra, save_checkpoint
from sensorimotor.utils.seeding import rng_state, set_rng_state

_RUN_KEYS = ("step", "agent", "rng", "obs_norm", "reward_norm")


def save_run_checkpoint(run_dir: str, step: int, agent_name: str, agent, env, replay=None, keep: int = 3) -> str:
    """Write checkpoint ``step`` of ``agent`` (and the env's normalizers, and ``replay`` when given);
    only the ``keep`` newest checkpoints stay."""
    state = dict(agent.state_dict())
    weights = state.pop("weights")
    clash = set(state) & set(_RUN_KEYS)
    assert not clash, f"agent state keys {clash} are reserved for the run"
    state.update(step=step, agent=agent_name, rng=rng_state(),
                 **{key: wrapper.state_dict() for key, wrapper in normalizers(env).items()})
    extra = {"replay": replay.state_dict()} if replay is not None else None
    return save_checkpoint(run_dir, step, weights, state, keep=keep, extra=extra)


def load_agent_checkpoint(path: str, agent_name: str, agent, env, training: bool) -> dict[str, Any]:
    """Load checkpoint ``path`` into ``agent`` and the env's normalizers; returns its run state.

    ``training``: also the optimizer, counters and RNG (a resume); otherwise only the weights, and the
    normalizers are frozen (evaluation and export must not shift their statistics).
    """
    weights, state = load_checkpoint(path, agent.device)
    if state.get("agent") != agent_name:
        raise UserError(f"checkpoint {path} belongs to agent {state.get('agent')!r}, not {agent_name}.")
    agent_state = {k: v for k, v in state.items() if k not in _RUN_KEYS} if training else {}
    agent.load_state_dict({"weights": weights, **agent_state})
    for key, wrapper in normalizers(env).items():
        if key not in state:
            raise UserError(f"checkpoint {path} has no {key} statistics, which this run's env normalizes with.")
        wrapper.load_state_dict(state[key])
        wrapper.training = training
    if training:
        set_rng_state(state["rng"])
    return state


def restore_replay(runner, checkpoint: str, run_dir: str, step: int) -> None:
    """Refill ``runner.replay`` from ``checkpoint``; without a saved replay the run refills by playing
    for ``learning_starts`` steps before updating again, and says so. The interrupted episodes end in
    the replay as truncations, since the envs restart."""
    saved = load_extra(checkpoint, "replay")
    if saved is None:
        runner.learning_starts_offset = step
        print(f"resuming {run_dir} from step {step} with an empty replay (the run did not save it: "
              f"--no-save-replay, or this is not the newest checkpoint, the only one that keeps it); it refills "
              f"for {runner.agent.config.learning_starts} steps before updates continue")
        return
    runner.replay.load_state_dict(saved)
    runner.replay.cut()
    print(f"resuming {run_dir} from step {step} with the saved replay ({len(runner.replay):,} transitions)")
