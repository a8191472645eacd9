#!/usr/bin/env bash
# Distributed training with torchrun: one process per GPU (gloo on CPU).
#   bash tools/dist_train.sh CONFIG GPUS [train.py options]
#
# Environment (default):
#   NNODES (1), NODE_RANK (0)   machines in the job, this machine's index
#   MASTER_ADDR (127.0.0.1), PORT (29500)
#                    node 0's address and a free port on it; the same on
#                    every node
#   RDZV_BACKEND (static; c10d when MAX_RESTARTS is set)
#                    static: every node names its NODE_RANK. c10d: elastic
#                    rendezvous at MASTER_ADDR:PORT, nodes join in any order
#                    (NODE_RANK is ignored)
#   RDZV_ID (mm_cyclegan)  c10d job id: the same on all nodes, new per job
#   MAX_RESTARTS (0) when a worker dies, torchrun stops the group and starts
#                    it again, up to this many times (counted per node);
#                    pass --resume so that each new attempt continues from
#                    the newest intact checkpoint. Restarts use the c10d
#                    rendezvous with a new store per attempt
#                    (TORCH_DISABLE_SHARE_RDZV_TCP_STORE=1): a store kept
#                    across attempts hands the new workers the dead ones'
#                    addresses ("Gloo connectFullMesh failed ... Connection
#                    refused", or NCCL's equivalent)
#   TORCHRUN_ARGS    more torchrun options, split on spaces
#                    (e.g. "--monitor-interval=1 --redirects=3")
#   PYTHON (python)  the interpreter
# Example, 2 nodes x 8 GPUs surviving one failure (run on each node):
#   NNODES=2 MASTER_ADDR=node0 MAX_RESTARTS=1 \
#     bash tools/dist_train.sh CONFIG 8 --resume
set -euo pipefail
if [[ $# -lt 2 ]]; then
    echo "usage: bash tools/dist_train.sh CONFIG GPUS [train.py options]" \
        "(environment: see the header of this script)" >&2
    exit 2
fi
CONFIG=$1
GPUS=$2
NNODES=${NNODES:-1}
NODE_RANK=${NODE_RANK:-0}
PORT=${PORT:-29500}
MASTER_ADDR=${MASTER_ADDR:-127.0.0.1}
MAX_RESTARTS=${MAX_RESTARTS:-0}
if [[ $MAX_RESTARTS != 0 ]]; then
    RDZV_BACKEND=${RDZV_BACKEND:-c10d}
    : "${TORCH_DISABLE_SHARE_RDZV_TCP_STORE:=1}"
    export TORCH_DISABLE_SHARE_RDZV_TCP_STORE
else
    RDZV_BACKEND=${RDZV_BACKEND:-static}
fi
RDZV_ID=${RDZV_ID:-mm_cyclegan}
TORCHRUN_ARGS=${TORCHRUN_ARGS:-}
HERE=$(cd "$(dirname "$0")" && pwd)
PYTHON=${PYTHON:-python}

if [[ $RDZV_BACKEND == static ]]; then
    RDZV=(--node_rank="$NODE_RANK" --master_addr="$MASTER_ADDR"
          --master_port="$PORT")
else
    RDZV=(--rdzv_backend="$RDZV_BACKEND" --rdzv_endpoint="$MASTER_ADDR:$PORT"
          --rdzv_id="$RDZV_ID")
fi
if [[ $MAX_RESTARTS != 0 && " ${*:3} " != *" --resume"* ]]; then
    echo "dist_train.sh: MAX_RESTARTS=$MAX_RESTARTS without --resume: a" \
        "restarted group would refuse the work dir's checkpoints" >&2
fi
if [[ $MAX_RESTARTS != 0 && $RDZV_BACKEND == static ]]; then
    echo "dist_train.sh: MAX_RESTARTS with RDZV_BACKEND=static: restarted" \
        "workers can read the previous attempt's rendezvous keys" >&2
fi

# shellcheck disable=SC2086  # TORCHRUN_ARGS is a list of options
PYTHONPATH="$HERE/..:${PYTHONPATH:-}" \
"$PYTHON" -m torch.distributed.run \
    --nnodes="$NNODES" \
    --nproc_per_node="$GPUS" \
    --max_restarts="$MAX_RESTARTS" \
    "${RDZV[@]}" \
    $TORCHRUN_ARGS \
    "$HERE/train.py" "$CONFIG" --launcher pytorch "${@:3}"
