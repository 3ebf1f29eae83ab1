"""The envs DQN trains and is evaluated on.

Evaluation follows the Atari protocol of Machado et al. 2018 (the v5 defaults): epsilon-greedy with
``eval_epsilon`` (0.001 by default; 0.05 reproduces Mnih et al. 2015), sticky actions with probability
0.25 and up to 30 no-ops after a reset, whole games (no life-loss terminals), 108k emulator frames at
most. Without video the games run on the ``ale`` backend; with video on the gymnasium wrapper path
(the same preprocessed observations, tested equal), whose emulator renders the full-colour frames the
MP4 shows.
"""

from __future__ import annotations

from sensorimotor.agents.dqn.config import DQNConfig
from sensorimotor.envs import make_vec
from sensorimotor.envs.registry import spec

ATARI_PROTOCOL = {"sticky_actions": 0.25, "noop_max": 30, "life_loss_terminal": False, "max_frames": 108_000}


def make_env(env_id: str, config: DQNConfig, num_envs: int | None = None, backend: str | None = None,
             render_mode: str | None = None, training: bool = True, env_options: dict | None = None):
    """Training: ``num_envs`` envs on ``backend`` (Atari on ``ale`` with ``life_loss_terminal`` as the
    config says). Evaluation: whole games on ``ale`` (or one rendering env on ``sync`` for video)."""
    num_envs = num_envs or config.num_envs
    atari = "atari" in spec(env_id).tags
    if render_mode:
        return make_vec(env_id, 1, backend="sync", render_mode=render_mode, **(env_options or {}))
    kwargs = dict(env_options or {})
    if atari and (backend or spec(env_id).default_backend) == "ale":
        kwargs["life_loss_terminal"] = config.life_loss_terminal and training
    if not training and atari:
        backend = "ale"
        kwargs["life_loss_terminal"] = False
    return make_vec(env_id, num_envs, backend=backend, device=config.device if training else "cpu", **kwargs)


def evaluation_protocol(env_id: str, config: DQNConfig) -> dict:
    """What the evaluation summary states of how DQN was evaluated."""
    out = {"epsilon": config.eval_epsilon}
    if "atari" in spec(env_id).tags:
        out.update(ATARI_PROTOCOL)
    return out
