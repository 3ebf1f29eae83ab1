"""Pixel replay that stores each frame once and rebuilds frame stacks by index.

Each env writes its own circular stream of slots. A slot holds the newest frame of one observation
(``uint8 [H, W]``), the action taken from it, the reward, both done flags, and ``age``: how many
frames of the same episode precede it. A stack of ``k`` frames for slot ``i`` is slots ``i-k+1 .. i``
where they belong to the same episode, and padding (zeros, or the episode's first frame) before its
start -- the same rule the env used, so a rebuilt stack equals the observation the agent saw.

When an episode ends, the final observation's newest frame goes into one extra slot that starts no
transition (``is_transition = False``), so truncated episodes can still bootstrap from it. Storage
is therefore one frame per step plus one per episode: about 7.06 kB per 84x84 Atari transition.

Shapes: ``N`` envs, ``T`` slots per env (``capacity // N``), frames ``[N, T, H, W]``.

Prioritized replay (Schaul et al. 2016, proportional): with ``prioritized``, slot ``i`` is drawn
with probability ``p_i ** alpha / sum_j p_j ** alpha`` from a sum tree (``sum_tree.py``). A new
transition gets the largest priority seen so far (so it is replayed at least once soon); the learner
sets ``p_i = |TD error| + eps`` after each update (:meth:`FrameReplay.update_priorities`). The
importance weights ``w_i = (n P(i)) ** -beta`` correct the bias, divided by the batch's largest
weight so they only ever scale the loss down.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from sensorimotor.agents.buffers.sum_tree import SumTree
from sensorimotor.errors import UserError


@dataclass
class ReplayBatch:
    """``obs``/``next_obs`` uint8 ``[B, k, H, W]`` (a flat replay: ``[B, D]``); ``action`` int64 ``[B]`` (or
    float32 ``[B, A]`` for continuous actions); ``reward`` float32 ``[B]``
    (the n-step discounted sum); ``terminated``, ``truncated`` bool ``[B]`` (within the n steps);
    ``discount`` float32 ``[B]``: gamma ** (steps taken) for the bootstrap; ``index`` ``[B, 2]`` (env, slot);
    ``weight`` float32 ``[B]``: importance weights of a prioritized sample in (0, 1] (None: uniform)."""

    obs: torch.Tensor
    action: torch.Tensor
    reward: torch.Tensor
    next_obs: torch.Tensor
    terminated: torch.Tensor
    truncated: torch.Tensor
    discount: torch.Tensor
    index: torch.Tensor
    weight: torch.Tensor | None = None


def replay_bytes_per_transition(frame_shape: tuple[int, ...], frame_itemsize: int = 1) -> int:
    """Bytes one slot costs: the frame, an int16 action, a float32 reward, two flags, an int32 age and
    a transition flag."""
    size = 1
    for d in frame_shape:
        size *= d
    return size * frame_itemsize + 2 + 4 + 1 + 1 + 4 + 1


class FrameReplay:
    """Args:
        capacity: transitions kept in all (split evenly over the envs).
        num_envs: parallel streams written each step.
        frame_shape: ``(H, W)`` of one frame.
        stack: frames per observation (the env's frame stack, e.g. 4).
        pad: ``"zeros"`` or ``"first"``: what the env puts in a stack before the episode's first frame.
        device: where the buffer lives (CPU RAM by default); sampled batches go to ``sample(device=)``.
        memory_limit_bytes: refuse to allocate beyond this (default: 80% of the machine's RAM).
        dtype: of the stored frames: uint8 for pixels, float32 for flat observations (``stack = 1``).
        prioritized: sample by priority (see the module docstring) instead of uniformly.
        alpha: how strongly priorities skew sampling (0: uniform, 1: proportional to |TD error|).
        priority_eps: added to |TD error| so no transition's probability falls to zero.
        seed: of the prioritized sampler's generator (default: drawn from torch's global one).
        flat: observations are whole ``[N, *frame_shape]`` (no stack axis; ``stack`` must be 1): ``start``
            and ``add`` take them so and ``sample`` returns ``[B, *frame_shape]``.
        action_shape, action_dtype: of one action: ``()`` int16 for discrete actions (sampled as int64),
            ``(A,)`` float32 for continuous ones.
    """

    def __init__(self, capacity: int, num_envs: int, frame_shape: tuple[int, ...], stack: int = 4,
                 pad: str = "zeros", device: str | torch.device = "cpu", memory_limit_bytes: int | None = None,
                 dtype: torch.dtype = torch.uint8, prioritized: bool = False, alpha: float = 0.6,
                 priority_eps: float = 1e-6, seed: int | None = None, flat: bool = False,
                 action_shape: tuple[int, ...] = (), action_dtype: torch.dtype = torch.int16):
        if stack < 1 or (flat and stack != 1):
            raise UserError(f"frame stack must be at least 1 (exactly 1 for flat observations), got {stack}")
        if pad not in ("zeros", "first"):
            raise UserError(f"pad must be 'zeros' or 'first', got {pad!r}")
        slots = capacity // num_envs
        if slots < 2 * stack + 2:
            raise UserError(f"replay capacity {capacity} is too small for {num_envs} envs and a stack of {stack}")
        need = slots * num_envs * replay_bytes_per_transition(frame_shape, torch.empty((), dtype=dtype).element_size())
        limit = memory_limit_bytes if memory_limit_bytes is not None else int(0.8 * _free_memory(torch.device(device)))
        if need > limit:
            where = "GPU memory" if torch.device(device).type == "cuda" else "RAM"
            raise UserError(f"a replay of {capacity:,} transitions of {frame_shape[0]}x{frame_shape[1]} frames needs "
                            f"{need / 2**30:.1f} GiB, more than the {limit / 2**30:.1f} GiB of {where} allowed; "
                            f"lower --dqn.buffer-size")
        self.num_envs, self.slots, self.stack, self.pad, self.flat = num_envs, slots, stack, pad, flat
        self.frame_shape = tuple(frame_shape)
        self.device = torch.device(device)
        n, t = num_envs, slots
        self.frames = torch.zeros((n, t, *frame_shape), dtype=dtype, device=self.device)
        self.action = torch.zeros((n, t, *action_shape), dtype=action_dtype, device=self.device)
        self.discrete_actions = not action_dtype.is_floating_point
        self.reward = torch.zeros((n, t), dtype=torch.float32, device=self.device)
        self.terminated = torch.zeros((n, t), dtype=torch.bool, device=self.device)
        self.truncated = torch.zeros((n, t), dtype=torch.bool, device=self.device)
        self.age = torch.zeros((n, t), dtype=torch.int32, device=self.device)
        self.is_transition = torch.zeros((n, t), dtype=torch.bool, device=self.device)
        self.pos = torch.zeros(n, dtype=torch.int64, device=self.device)  # next slot to write, per env
        self.written = torch.zeros(n, dtype=torch.int64, device=self.device)  # slots ever written, per env
        self._age_now = torch.zeros(n, dtype=torch.int32, device=self.device)
        self._env = torch.arange(n, device=self.device)
        self._pending: torch.Tensor | None = None  # newest frames of the current observations [N, H, W]
        self.tree = SumTree(n * t) if prioritized else None  # leaf env * T + slot holds p ** alpha
        self.alpha, self.priority_eps = alpha, priority_eps
        self.max_priority = 1.0  # largest p seen; new transitions get it
        self._rng = np.random.default_rng(int(torch.randint(2**62, ())) if seed is None else seed)

    @property
    def nbytes(self) -> int:
        tree = self.tree.nodes.nbytes if self.tree is not None else 0  # 16-32 B per slot, host memory
        return tree + sum(t.numel() * t.element_size() for t in (self.frames, self.action, self.reward, self.terminated,
                                                                 self.truncated, self.age, self.is_transition))

    def __len__(self) -> int:
        return int(self.written.clamp(max=self.slots).sum())

    # -- writing ------------------------------------------------------------------------------------
    def start(self, obs: torch.Tensor) -> None:
        """The first observations after ``reset``: ``uint8 [N, k, H, W]`` (only the newest frame is kept)."""
        self._pending = self._newest(obs).to(self.device)
        self._age_now.zero_()

    def add(self, action: torch.Tensor, reward: torch.Tensor, terminated: torch.Tensor, truncated: torch.Tensor,
            next_obs: torch.Tensor, final_obs: torch.Tensor | None = None, reset: torch.Tensor | None = None) -> None:
        """One vector step: ``action``/``reward``/flags ``[N]``; ``next_obs`` ``[N, k, H, W]`` (after
        autoreset); ``final_obs`` ``[N, k, H, W]`` holds the last real observation of finished envs.

        ``reset`` ``[N]`` marks envs whose ``next_obs`` starts a new stack (default: terminated or
        truncated). A life-loss terminal of a game that goes on is terminated but not reset: its next
        slot is the continuing observation and no final slot is written."""
        assert self._pending is not None, "call start(obs) after reset"
        env = self._env
        done = (terminated | truncated) if reset is None else reset
        done = done.to(self.device)
        self._write(env, self._pending, self._age_now, True, action.to(self.device, self.action.dtype),
                    reward.to(self.device, torch.float32), terminated.to(self.device), truncated.to(self.device))
        if bool(done.any()):
            ended = env[done]
            final = self._newest((final_obs if final_obs is not None else next_obs)[done.to(next_obs.device)])
            self._write(ended, final.to(self.device), self._age_now[ended] + 1, False)
            self._age_now[ended] = -1
        self._age_now += 1
        self._pending = self._newest(next_obs).to(self.device)

    def _newest(self, obs: torch.Tensor) -> torch.Tensor:
        """The newest frame of each stacked observation ``[N, k, ...]``, or a flat observation whole."""
        return obs if self.flat else obs[:, -1]

    def cut(self) -> None:
        """End every env's stream where it stands, as a truncation: the newest transition keeps its
        bootstrap, from the pending observation written as a final slot. A resumed run calls this
        before ``start``, since its envs begin fresh episodes."""
        if self._pending is None:
            return
        last = (self.pos - 1) % self.slots
        open_ = (self.written > 0) & self.is_transition[self._env, last]
        env = self._env[open_]
        if len(env):
            self.truncated[env, last[open_]] = True
            self._write(env, self._pending[open_], self._age_now[open_], False)
        self._pending = None

    def _write(self, env, frame, age, is_transition, action=None, reward=None, terminated=None, truncated=None):
        p = self.pos[env]
        flat = self.frames.view(self.num_envs * self.slots, -1)
        flat.index_copy_(0, env * self.slots + p, frame.reshape(len(env), -1))
        self.age[env, p] = age
        self.is_transition[env, p] = is_transition
        if action is not None:
            self.action[env, p], self.reward[env, p] = action, reward
            self.terminated[env, p], self.truncated[env, p] = terminated, truncated
        else:
            self.terminated[env, p] = False
            self.truncated[env, p] = False
        if self.tree is not None:  # final-observation slots start nothing: priority 0, never drawn
            leaf = (env * self.slots + p).cpu().numpy()
            self.tree.set(leaf, self.max_priority ** self.alpha if is_transition else 0.0)
        self.pos[env] = (p + 1) % self.slots
        self.written[env] += 1

    # -- reading ------------------------------------------------------------------------------------
    def stacks(self, env: torch.Tensor, slot: torch.Tensor) -> torch.Tensor:
        """Rebuilt observations at ``(env, slot)`` ``[B]``: ``uint8 [B, k, H, W]``."""
        # index_select on the flattened ring: ~10x faster than advanced indexing for uint8 frames.
        flat = self.frames.view(self.num_envs * self.slots, *self.frame_shape)
        back = torch.arange(self.stack - 1, -1, -1, device=self.device)  # k-1 .. 0 frames back
        slots = (slot[:, None] - back) % self.slots                      # [B, k]
        rows = (env[:, None] * self.slots + slots).flatten()
        frames = flat.index_select(0, rows).view(len(env), self.stack, *self.frame_shape)
        age = self.age[env, slot]
        before_start = (back[None, :] > age[:, None]).flatten().nonzero().squeeze(1)  # few: only near starts
        if before_start.numel() == 0:
            return frames
        rows_view = frames.view(len(env) * self.stack, -1)
        if self.pad == "zeros":
            rows_view.index_fill_(0, before_start, 0)
        else:
            first = flat.index_select(0, env * self.slots + (slot - age.long()) % self.slots)  # episode's first frame
            rows_view.index_copy_(0, before_start, first.view(len(env), -1).index_select(0, before_start // self.stack))
        return frames

    def valid(self, env: torch.Tensor | None = None, slot: torch.Tensor | None = None, n_step: int = 1) -> torch.Tensor:
        """Whether a sample may start at ``(env, slot)`` (``[B]`` each; default every slot, ``[N, T]``):
        a transition whose next ``n_step`` slots are written and whose stack history has not been
        overwritten."""
        if env is None:
            env = self._env[:, None]
            slot = torch.arange(self.slots, device=self.device)[None, :]
        filled = self.written[env].clamp(max=self.slots)
        behind = ((self.pos[env] - 1) - slot) % self.slots  # 0 = the newest slot
        # The frames of the stack that come from the same episode must still be there (not reused by the
        # writer, which overwrites the oldest slots first).
        history = self.age[env, slot].clamp(max=self.stack - 1)
        return self.is_transition[env, slot] & (behind >= n_step) & (behind + history < filled)

    def sample(self, batch_size: int, gamma: float = 0.99, n_step: int = 1, device=None,
               generator: torch.Generator | None = None, beta: float = 1.0) -> ReplayBatch:
        """Uniform (or by priority, with importance weights of exponent ``beta``) over valid slots,
        with ``n_step`` returns cut at episode ends.

        Rejection sampling: candidates are drawn over the written slots and the (few) invalid ones
        redrawn, so a sample costs O(batch), not O(capacity)."""
        if len(self) <= n_step:
            raise RuntimeError("the replay holds no complete transition yet")
        if self.tree is not None:
            env, slot = self._draw_prioritized(batch_size, n_step)
        else:
            env, slot = self._draw_uniform(batch_size, n_step, generator)
        reward = torch.zeros(batch_size, device=self.device)
        discount = torch.ones(batch_size, device=self.device)
        terminated = torch.zeros(batch_size, dtype=torch.bool, device=self.device)
        truncated = torch.zeros(batch_size, dtype=torch.bool, device=self.device)
        live = torch.ones(batch_size, dtype=torch.bool, device=self.device)
        cur = slot.clone()
        for _ in range(n_step):  # n is small (1-5): a loop over steps, each vectorized over the batch
            reward += live * discount * self.reward[env, cur]
            discount = torch.where(live, discount * gamma, discount)
            terminated |= live & self.terminated[env, cur]
            truncated |= live & self.truncated[env, cur]
            ended = self.terminated[env, cur] | self.truncated[env, cur]
            nxt = (cur + 1) % self.slots
            # After an episode end the next slot is the final observation: stop there.
            cur = torch.where(live, nxt, cur)
            live &= ~ended & self.is_transition[env, nxt]
        out = device if device is not None else self.device
        weight = None if self.tree is None else self._importance_weights(env, slot, beta)
        action = self.action[env, slot]
        obs, next_obs = self.stacks(env, slot), self.stacks(env, cur)
        if self.flat:
            obs, next_obs = obs[:, 0], next_obs[:, 0]
        batch = ReplayBatch(obs, action.long() if self.discrete_actions else action, reward, next_obs,
                            terminated, truncated, discount, torch.stack([env, slot], 1), weight)
        return ReplayBatch(*(x if x is None else x.to(out, non_blocking=True) for x in batch.__dict__.values()))

    def _draw_uniform(self, batch_size: int, n_step: int, generator) -> tuple[torch.Tensor, torch.Tensor]:
        weights = self.written.clamp(max=self.slots).float()
        env_parts, slot_parts, have = [], [], 0
        for _ in range(100):
            env = torch.multinomial(weights, 2 * batch_size, replacement=True, generator=generator)
            back = (torch.rand(2 * batch_size, device=self.device, generator=generator) * weights[env]).long()
            slot = (self.pos[env] - 1 - back) % self.slots
            ok = self.valid(env, slot, n_step)
            env_parts.append(env[ok])
            slot_parts.append(slot[ok])
            have += int(ok.sum())
            if have >= batch_size:
                return torch.cat(env_parts)[:batch_size], torch.cat(slot_parts)[:batch_size]
        raise RuntimeError("the replay holds no complete transition yet")

    def _draw_prioritized(self, batch_size: int, n_step: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Stratified draws from the sum tree; the invalid few (newest slots, overwritten history)
        are redrawn by mass until the batch is full."""
        leaf = self.tree.stratified(batch_size, self._rng)
        for _ in range(100):
            index = torch.from_numpy(leaf).to(self.device)
            env, slot = index // self.slots, index % self.slots
            bad = (~self.valid(env, slot, n_step)).cpu().numpy()
            if not bad.any():
                return env, slot
            leaf[bad] = self.tree.find(self._rng.random(int(bad.sum())) * self.tree.total)
        raise RuntimeError("the replay holds no complete transition yet")

    def _importance_weights(self, env: torch.Tensor, slot: torch.Tensor, beta: float) -> torch.Tensor:
        """``(n P(i)) ** -beta`` over the batch's largest weight, float32 ``[B]``."""
        leaf = (env * self.slots + slot).cpu().numpy()
        probability = self.tree.get(leaf) / self.tree.total
        weight = (len(self) * probability) ** -beta
        return torch.as_tensor(weight / weight.max(), dtype=torch.float32, device=self.device)

    def update_priorities(self, index: torch.Tensor, td_error: torch.Tensor) -> None:
        """After an update: ``index`` ``[B, 2]`` (env, slot) from the batch, ``td_error`` ``[B]``."""
        if self.tree is None:
            raise RuntimeError("update_priorities on a uniform replay: build it with prioritized=True")
        index = index.cpu()
        priority = td_error.detach().abs().double().cpu().numpy() + self.priority_eps
        if not np.all(np.isfinite(priority)):
            raise FloatingPointError("non-finite TD errors: the Q network diverged (lower the learning rate)")
        self.tree.set((index[:, 0] * self.slots + index[:, 1]).numpy(), priority ** self.alpha)
        self.max_priority = max(self.max_priority, float(priority.max()))

    # -- checkpoints --------------------------------------------------------------------------------
    def state_dict(self) -> dict[str, torch.Tensor]:
        state = {k: getattr(self, k) for k in ("frames", "action", "reward", "terminated", "truncated", "age",
                                               "is_transition", "pos", "written")}
        if self._pending is not None:  # the current observations: a resume cuts the streams with them
            state.update(pending=self._pending, age_now=self._age_now)
        if self.tree is not None:
            state["priorities"] = torch.from_numpy(self.tree.nodes[self.tree.size:][: self.tree.capacity].copy())
            state["max_priority"] = torch.tensor(self.max_priority, dtype=torch.float64)
        return state

    def load_state_dict(self, state: dict[str, torch.Tensor]) -> None:
        state = dict(state)
        priorities, max_priority = state.pop("priorities", None), state.pop("max_priority", None)
        pending, age_now = state.pop("pending", None), state.pop("age_now", None)
        if (priorities is None) != (self.tree is None):
            raise UserError("the saved replay and this run disagree on prioritized replay: resume with the same "
                            "--dqn.prioritized setting")
        if priorities is not None:
            if priorities.numel() != self.tree.capacity:
                raise UserError(f"replay in the checkpoint has {priorities.numel()} priorities, this run "
                                f"{self.tree.capacity}: same --dqn.buffer-size and num envs needed")
            self.tree.set(np.arange(self.tree.capacity), priorities.cpu().numpy())
            self.max_priority = float(max_priority)
        for k, v in state.items():
            if getattr(self, k).shape != v.shape:
                raise UserError(f"replay in the checkpoint has {k} of shape {tuple(v.shape)}, this run "
                                f"{tuple(getattr(self, k).shape)}: same --dqn.buffer-size and num envs needed")
            getattr(self, k).copy_(v)
        if pending is not None:
            self._pending, self._age_now = pending.to(self.device), age_now.to(self.device, torch.int32)


def _free_memory(device: torch.device) -> int:
    """Bytes a replay may take on ``device``: free GPU memory, or the machine's total RAM."""
    if device.type == "cuda":
        return torch.cuda.mem_get_info(device)[0]
    import os

    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
