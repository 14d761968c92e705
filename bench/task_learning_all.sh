#!/bin/sh
# Every robot task with its shipped config (configs/tasks/<task>_ppo.yaml) against a random policy,
# one task and one seed at a time (seed 1 of every task first), niced and single-threaded.
# Hours of CPU: run it in the background. Usage:
#   bench/task_learning_all.sh BUILD_DIR LOG_DIR [SEEDS] [TIMESTEPS]
# Each run's log is LOG_DIR/<task>_seed<seed>.log; its last line is the seed's verdict.
set -u
build=${1:-build}
logs=${2:-/work/logs/learning}
seeds=${3:-"1 2 3"}
timesteps=${4:-2000000}
src=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$logs"
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1
for seed in $seeds; do
  for task in height_maximize crush_resistance object_displacement obstacle_navigation \
              object_manipulation terrain_traversal narrow_passage; do
    log="$logs/${task}_seed${seed}.log"
    [ -s "$log" ] && grep -q "^summary" "$log" && continue  # finished earlier
    nice -n 19 "$build/bench/task_learning" --config "$src/configs/tasks/${task}_ppo.yaml" \
      --seeds "$seed" --timesteps "$timesteps" --eval-every 100000 --eval-episodes 10 \
      --set training.eval_freq=0 --out "/tmp/rlpipe_task_learning/${task}_${seed}" > "$log" 2>&1
  done
done
