#!/usr/bin/env bash
# The GPU measurements of docs/performance.md and docs/gpu.md, in five stages of under 10 minutes each
# (estimated for one H100; never yet run: no GPU has been available to this project so far).
#
#   bash benchmarks/gpu_checks.sh options    # which harness options pay at the default setting
#   bash benchmarks/gpu_checks.sh headline   # default, textbook and gpu settings, 3 paired repeats (BEST="--dtype bfloat16")
#   bash benchmarks/gpu_checks.sh preset     # v4 preset candidates for 75 s each, then their time to val loss 4.8
#   bash benchmarks/gpu_checks.sh preset7    # v7 preset candidates for 120 s each, then their time to val loss 4.0
#   bash benchmarks/gpu_checks.sh accuracy   # fp32 CPU against fp32 GPU (0.05 nats), bf16 against fp32 (0.02)
#   bash benchmarks/gpu_checks.sh            # all five
#
# Runs are written under runs/gpu_checks/ (or $RUNS); everything printed is also appended to
# $OUT/gpu_checks.log when OUT is set (the device tool's folder), else to runs/gpu_checks/gpu_checks.log.
# A smoke test on a CPU: DEVICE=cpu EXTRA="--max-iters 40 --eval-interval 20 --data data/songci300.txt"
# BENCH_EXTRA=--quick PRESET_SECONDS=5 PRESET7_SECONDS=5 bash benchmarks/gpu_checks.sh
#
# Exit status: 0 when every stage ran and its checks passed; 1 when a stage failed (the last line
# names them), 2 for an unknown stage. Every command is killed after COMMAND_SECONDS (default 600,
# the device tool's limit per call; SIGTERM, then SIGKILL 30 s later), so a hung one fails its stage
# instead of holding the machine.
set -uo pipefail
cd "$(dirname "$0")/.."
python=${PYTHON:-python3}
py="timeout -k 30 ${COMMAND_SECONDS:-600} $python"
device=${DEVICE:-cuda}
runs=${RUNS:-runs/gpu_checks}
log=${OUT:-$runs}/gpu_checks.log
mkdir -p "$runs" "$(dirname "$log")"
exec > >(tee -a "$log") 2>&1

bench() { $py -m benchmarks.bench_train --device "$device" --versions "${VERSIONS:-v4}" ${BENCH_EXTRA:-} "$@"; }  # VERSIONS=v4,v7: both
train() {  # train NAME [flags...]: v4 into runs/gpu_checks/NAME; prints its evaluations and last line
    local name=$1; shift
    $py babygpt_v4_multihead_attention.py --out-dir "$runs/$name" "$@" ${EXTRA:-} 2>&1 | tr '\r' '\n' | grep -E "^step|^error"
}

stage_options() {
    local failed=0
    for opts in "" "--dtype tf32" "--dtype bfloat16" "--compile" "--dtype bfloat16 --compile"; do
        echo "## default setting, harness options: ${opts:-none}"
        bench --settings default --repeat 1 $opts | grep -E "^\| default|^#" || failed=1
    done
    return $failed
}

stage_headline() {
    echo "## headline, harness options: ${BEST:-none}"
    bench --settings default,textbook,gpu --repeat 3 ${BEST:-}
}

presets() {  # presets SCRIPT SECONDS TARGET PREFIX "name flags"...: each for SECONDS, then time to TARGET
    local script=$1 seconds=$2 target=$3 prefix=$4 preset name flags status failed=0
    local common="--dtype ${PRESET_DTYPE:-bfloat16} --eval-iters 10 --prompt 春江"
    shift 4
    for preset in "$@"; do
        read -r name flags <<<"$preset"
        echo "## $prefix $name: $flags $common (Ctrl-C after $seconds s: the run saves and stops)"
        timeout -k 30 -s INT "$seconds" $python "$script" --out-dir "$runs/$prefix-$name" \
            --device "$device" $flags $common ${EXTRA:-} 2>&1 | tr '\r' '\n' | grep -E "^step|^error"
        status=$?
        [ $status -eq 0 ] || [ $status -eq 124 ] || failed=1  # 124: stopped by the timeout, as planned
    done
    # Status 1 only says that a run did not reach the target: a finding, not a failure.
    $py -m benchmarks.curves time-to-loss "$runs/$prefix"-*/metrics.json --target "$target" || [ $? -eq 1 ] || failed=1
    return $failed
}

stage_preset() {
    # v4: bigger batch, context and width than the defaults, in three steps. The second is
    # bench_train.py's "gpu" setting: if another one wins, make that setting the winner and rerun headline.
    presets babygpt_v4_multihead_attention.py "${PRESET_SECONDS:-75}" 4.8 preset \
        "b64-t64-c128   --batch-size 64  --block-size 64  --n-embd 128 --n-head 4 --learning-rate 3e-3 --max-iters 20000 --eval-interval 500" \
        "b256-t64-c256  --batch-size 256 --block-size 64  --n-embd 256 --n-head 8 --learning-rate 3e-3 --max-iters 10000 --eval-interval 250" \
        "b512-t128-c384 --batch-size 512 --block-size 128 --n-embd 384 --n-head 8 --learning-rate 2e-3 --max-iters 5000  --eval-interval 100"
}

stage_preset7() {
    # v7: deeper and wider, with a longer context; the lecture's gpt.py trains 6 layers of 384 channels.
    presets babygpt_v7_transformer.py "${PRESET7_SECONDS:-120}" 4.0 preset7 \
        "b64-t128-c256-l6  --batch-size 64  --block-size 128 --n-embd 256 --n-head 8 --n-layer 6 --learning-rate 1e-3 --max-iters 20000 --eval-interval 500" \
        "b64-t256-c384-l6  --batch-size 64  --block-size 256 --n-embd 384 --n-head 6 --n-layer 6 --learning-rate 1e-3 --max-iters 10000 --eval-interval 250" \
        "b128-t256-c512-l8 --batch-size 128 --block-size 256 --n-embd 512 --n-head 8 --n-layer 8 --learning-rate 6e-4 --max-iters 5000  --eval-interval 250"
}

stage_accuracy() {
    local failed=0
    echo "## accuracy: the default setting, seed 1337, on the GPU in fp32 and bf16, and on the CPU in fp32"
    train gpu-fp32 --device "$device" || failed=1
    train gpu-bf16 --device "$device" --dtype bfloat16 || failed=1
    train cpu-fp32 --device cpu || failed=1
    $py -m benchmarks.curves agree "$runs/cpu-fp32/metrics.json" "$runs/gpu-fp32/metrics.json" --tolerance 0.05 || failed=1
    $py -m benchmarks.curves agree "$runs/gpu-fp32/metrics.json" "$runs/gpu-bf16/metrics.json" --tolerance 0.02 --final-only || failed=1
    return $failed
}

echo "# gpu_checks $(date -u +%F) | $(nvidia-smi -L 2>/dev/null | head -1) | $($py -c 'import torch; print("torch", torch.__version__)')"
failed=""
for stage in "${@:-options headline preset preset7 accuracy}"; do
    for s in $stage; do
        case $s in
            options | headline | preset | preset7 | accuracy) "stage_$s" || failed="$failed $s" ;;
            *) echo "error: unknown stage $s (options, headline, preset, preset7, accuracy)" >&2; exit 2 ;;
        esac
    done
done
if [ -n "$failed" ]; then
    echo "error: these stages failed or were killed:$failed (their output is above)" >&2
    exit 1
fi
