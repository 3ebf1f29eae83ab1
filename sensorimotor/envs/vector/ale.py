"""``ale`` backend: ale-py's C++ vector env (threads, preprocessing inside) behind the VecEnv contract.

ALE does the Atari preprocessing in C++: frame skip 4 with max-pooling of the last two frames, 84x84
grayscale, a 4-frame stack (zeros before the episode's first frame), up to ``noop_max`` no-ops after a
reset, sticky actions (``repeat_action_probability``, 0.25 in the v5 protocol) and the 108k-frame cap.
Observations leave as uint8 ``[N, 4, 84, 84]`` tensors; rewards are raw (the agent clips them).

Life loss: off by default, so an episode is a whole game for every agent (PPO counted lives as
episodes before). With ``life_loss_terminal`` (DQN's training asks for it), losing a life ends the
step with ``terminated = True`` while the game goes on (the frame stack is not reset).
``info["episode_end"]`` marks real game ends, where the episode statistics (full-game return and
length) are reported and where the next observation starts a fresh stack.
"""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import torch

from sensorimotor.envs.core import EpisodeStats, check_actions


class AleVecEnv:
    """Args:
        game: ALE ROM id (``pong``, ``breakout``...).
        num_envs: parallel games, stepped by ``num_threads`` C++ threads (0: one per env, at most one
            per core; more threads than envs only contend with the learner's).
        life_loss_terminal: a lost life terminates the step (DQN's training; off: whole games).
        repeat_action_probability: sticky actions.
        noop_max: most no-op actions after a reset.
        stack: frames per observation.
        max_frames: per-episode cap in emulator frames (truncation).
    """

    def __init__(self, game: str, num_envs: int, device: torch.device = torch.device("cpu"),
                 life_loss_terminal: bool = False, repeat_action_probability: float = 0.25, noop_max: int = 30,
                 stack: int = 4, frame_skip: int = 4, max_frames: int = 108_000, num_threads: int = 0,
                 full_action_space: bool = False, use_fire_reset: bool = False):
        import os

        from ale_py.vector_env import AtariVectorEnv

        num_threads = num_threads or min(num_envs, os.cpu_count() or 1)

        self.game = game
        self.num_envs = num_envs
        self.device = torch.device(device)
        self.life_loss_terminal = life_loss_terminal
        self._env = AtariVectorEnv(
            game, num_envs, num_threads=num_threads, autoreset_mode="SameStep", reward_clipping=False,
            life_loss_info=life_loss_terminal, episodic_life=False, repeat_action_probability=repeat_action_probability,
            noop_max=noop_max, stack_num=stack, frameskip=frame_skip, max_num_frames_per_episode=max_frames,
            full_action_space=full_action_space, use_fire_reset=use_fire_reset)
        self.single_observation_space = gym.spaces.Box(0, 255, (stack, 84, 84), np.uint8)
        self.single_action_space = gym.spaces.Discrete(int(self._env.single_action_space.n))
        # frame_stack: the observation's leading axis is time, so a replay stores one frame per step.
        self.metadata = {"render_modes": [], "autoreset_mode": "same_step", "frame_stack": stack}
        self._stats = EpisodeStats(num_envs)
        self._frame_number = np.zeros(num_envs, dtype=np.int64)

    def reset(self, seed: int | None = None) -> torch.Tensor:
        obs, info = self._env.reset(seed=seed)
        self._stats.reset()
        self._frame_number = np.asarray(info["episode_frame_number"], dtype=np.int64)
        return self._to(obs)

    def step(self, actions: torch.Tensor):
        check_actions(actions, self.single_action_space, self.num_envs)  # ale-py hangs on an out-of-range one
        obs, reward, terminated, truncated, info = self._env.step(actions.detach().cpu().numpy().astype(np.int64))
        frame_number = np.asarray(info["episode_frame_number"], dtype=np.int64)
        # A real game end is the only time ALE resets: the episode frame counter starts over.
        episode_end = truncated | (terminated & (frame_number < self._frame_number)) if self.life_loss_terminal \
            else terminated | truncated
        self._frame_number = frame_number
        ret, length = self._stats.update(reward.astype(np.float64), episode_end)
        next_obs = self._to(obs)
        # Dense final_obs (DESIGN 2.1): a separate tensor, equal to obs where no game ended. ale-py's own
        # final_obs holds stale frames in the rows that did not reset: only the reset rows are taken.
        final_obs = next_obs.clone()
        reset_rows = np.flatnonzero(episode_end)
        if "final_obs" in info and len(reset_rows):
            final_obs[reset_rows] = self._to(np.asarray(info["final_obs"])[reset_rows])
        out = {"final_obs": final_obs,
               "episode_return": torch.as_tensor(ret, device=self.device),
               "episode_length": torch.as_tensor(length, device=self.device),
               "episode_end": torch.as_tensor(episode_end, device=self.device),
               "lives": torch.as_tensor(np.asarray(info["lives"], dtype=np.int64), device=self.device)}
        return (next_obs, torch.as_tensor(reward, dtype=torch.float32, device=self.device),
                torch.as_tensor(terminated, device=self.device), torch.as_tensor(truncated, device=self.device), out)

    def _to(self, obs: np.ndarray) -> torch.Tensor:
        return torch.from_numpy(np.ascontiguousarray(obs)).to(self.device)

    def render(self):
        return None

    def close(self) -> None:
        self._env.close()
