#!/usr/bin/env bash
# Learning benchmark: PPO at 1M steps on HalfCheetah-v5 (preset make-train) and Hopper-v5 (preset
# mujoco), 3 seeds each, then a 10-episode deterministic evaluation of each run.
#   bash benchmarks/learning_mujoco.sh [SEEDS...]     # results in runs/learn-*/eval/summary.json
set -euo pipefail
cd "$(dirname "$0")/.."
seeds=("${@:-0 1 2}")
task() {  # env preset seed
  run=runs/learn-$1-$2-s$3
  .venv/bin/python -m sensorimotor train ppo --env "$1" --preset "$2" --ppo.total-steps 1000000 \
    --seed "$3" --run-dir "$run" --no-progress
  .venv/bin/python -m sensorimotor evaluate "$run" --episodes 10
}
for s in ${seeds[@]}; do task "${ENV:-HalfCheetah-v5}" "${PRESET:-make-train}" "$s"; done
