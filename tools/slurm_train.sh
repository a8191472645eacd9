#!/usr/bin/env bash
# Training on a SLURM cluster: srun starts one task per GPU and train.py
# joins them with MMEngine's slurm launcher (gloo and no GPU on CPU nodes).
#   [GPUS=16] [GPUS_PER_NODE=8] bash tools/slurm_train.sh \
#       PARTITION JOB_NAME CONFIG WORK_DIR [train.py options]
#
# PARTITION is passed to srun -p; give '' to use the cluster's default
# partition. Environment (default):
#   GPUS (8)           tasks in the job, one process per GPU
#   GPUS_PER_NODE (8)  tasks per node (srun --ntasks-per-node); the job
#                      spans GPUS / GPUS_PER_NODE nodes, so with fewer
#                      GPUs than a node has set GPUS_PER_NODE=GPUS
#   GRES (gpu:GPUS_PER_NODE)  srun --gres; GRES= (empty) on CPU partitions
#   CPUS_PER_TASK (5)  CPU cores per task (data loading workers + 1)
#   SRUN_ARGS          more srun options, e.g. "--time=2-00:00:00"
#   MASTER_PORT (29500)  port on the first node for the process group;
#                      change it when two jobs share a node
#   PYTHON (python)    the interpreter on the nodes
# The first node of the job is found with `scontrol show hostnames`.
set -euo pipefail
if [[ $# -lt 4 ]]; then
    echo "usage: [GPUS=N] bash tools/slurm_train.sh PARTITION JOB_NAME" \
        "CONFIG WORK_DIR [train.py options]" >&2
    exit 2
fi
PARTITION=$1
JOB_NAME=$2
CONFIG=$3
WORK_DIR=$4
GPUS=${GPUS:-8}
GPUS_PER_NODE=${GPUS_PER_NODE:-8}
GRES=${GRES-gpu:$GPUS_PER_NODE}
CPUS_PER_TASK=${CPUS_PER_TASK:-5}
SRUN_ARGS=${SRUN_ARGS:-}
PYTHON=${PYTHON:-python}
HERE=$(cd "$(dirname "$0")" && pwd)

OPTIONS=()
if [[ -n $PARTITION ]]; then
    OPTIONS+=(-p "$PARTITION")
fi
if [[ -n $GRES ]]; then
    OPTIONS+=(--gres="$GRES")
fi

# shellcheck disable=SC2086  # SRUN_ARGS is a list of options
PYTHONPATH="$HERE/..:${PYTHONPATH:-}" \
srun "${OPTIONS[@]}" \
    --job-name="$JOB_NAME" \
    --ntasks="$GPUS" \
    --ntasks-per-node="$GPUS_PER_NODE" \
    --cpus-per-task="$CPUS_PER_TASK" \
    --kill-on-bad-exit=1 \
    $SRUN_ARGS \
    "$PYTHON" -u "$HERE/train.py" "$CONFIG" --work-dir="$WORK_DIR" \
    --launcher slurm "${@:5}"
