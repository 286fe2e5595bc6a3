#!/usr/bin/env bash
# The "done when" of issue 16 on a real GPU machine (one NVIDIA H200 expected; any GPU works for
# the GPU-holding checks, the model checks then report what they saw).
#
#   bash tests/device/check_local_gpu.sh        # from the repository root or anywhere
#
# Needs python3 and the machine's nvidia-smi. reqsolve runs from this working tree
# (python3 -m reqsolve, PYTHONPATH); its dependencies are installed with pip when missing
# (pip install -e ., then --no-build-isolation when the build backend cannot be fetched).
# Prints one PASS/FAIL/SKIP line per check with the commands' output under it; exits 1 when a
# check failed. Every wait is bounded: the script ends within about a minute.
# CHECK_SKIP_CUDA=1 skips asking the CUDA driver what a job sees (tests run this script with a
# fake nvidia-smi, whose GPUs the driver does not know).
set -u

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
WORK=$(mktemp -d "${TMPDIR:-/tmp}/reqsolve-gpu-check.XXXXXX")
PY=${PYTHON:-python3}
FAILED=0
WAIT_S=30
LOG=$WORK/jobs.log

cleanup() {  # let waiting jobs end, stop what is still running, remove the work folder
    touch "$WORK/gate-A" "$WORK/gate-B" 2>/dev/null
    for pid in $(jobs -p); do kill "$pid" 2>/dev/null; done
    wait 2>/dev/null
    sleep 0.2
    rm -rf "$WORK"
}
trap cleanup EXIT

report() {  # report STATUS NAME OUTPUT
    echo "$1: $2"
    [ -n "${3:-}" ] && printf '%s\n' "$3" | sed 's/^/    /'
    [ "$1" = FAIL ] && FAILED=1
    return 0
}

# --- reqsolve and its dependencies
export PYTHONPATH="$ROOT${PYTHONPATH:+:$PYTHONPATH}"
if ! "$PY" -c "import reqsolve.cli, yaml, lark, pint, constraint" 2>/dev/null; then
    echo "installing reqsolve's dependencies (pip install -e $ROOT)"
    ( cd "$ROOT" && { "$PY" -m pip install -q -e . \
        || "$PY" -m pip install -q --no-build-isolation -e . \
        || "$PY" -m pip install -q --user -e . \
        || "$PY" -m pip install -q --user --no-build-isolation -e . ; } ) 2>&1 | tail -5
fi
if ! "$PY" -c "import reqsolve.cli, yaml, lark, pint, constraint" 2>"$WORK/import.err"; then
    report FAIL "reqsolve imports" "$(cat "$WORK/import.err")"
    exit 1
fi

# A user with no launcher file: the embedded launcher describes this machine.
unset REQSOLVE_CONFIG REQSOLVE_NVIDIA_SMI CUDA_VISIBLE_DEVICES CUDA_DEVICE_ORDER
export HOME=$WORK/home XDG_CONFIG_HOME=$WORK/home/.config XDG_CACHE_HOME=$WORK/cache
export REQSOLVE_TOKENS_DIR=$WORK/tokens
mkdir -p "$XDG_CONFIG_HOME"
rq() { "$PY" -m reqsolve "$@"; }

# --- the machine
SMI=$(timeout 20 nvidia-smi --query-gpu=index,uuid,name,memory.total --format=csv,noheader 2>&1)
if [ $? -ne 0 ] || [ -z "$SMI" ]; then
    report FAIL "nvidia-smi reports the GPUs" "$SMI"
    exit 1
fi
report INFO "nvidia-smi --query-gpu=index,uuid,name,memory.total --format=csv,noheader" "$SMI"
COUNT=$(printf '%s\n' "$SMI" | grep -c .)
UUID0=$(printf '%s\n' "$SMI" | head -1 | cut -d, -f2 | tr -d ' ')
NAME0=$(printf '%s\n' "$SMI" | head -1 | cut -d, -f3 | sed 's/^ *//; s/ *$//')
H200=no
case "$NAME0" in *H200*) H200=yes ;; esac
[ "$COUNT" = 1 ] && [ "$H200" = yes ] || report INFO "not the one-H200 machine of the issue" \
    "$COUNT GPU(s), first: $NAME0 (the model checks below expect an H200)"

launcher_of() {  # launcher_of EXPR -> the answer's launcher id, or "none"
    rq find --format json "$1" 2>"$WORK/find.err" | "$PY" -c '
import json, sys
answer = json.load(sys.stdin)
print((answer.get("launcher") or {}).get("id") or "none")'
}

# --- 1. models as people name them
for model in H200 h200 H100; do
    got=$(launcher_of "cuda(model=$model)")
    expected=local
    [ "$model" = H100 ] && expected=none
    [ "$H200" = yes ] || expected="?"
    detail="reqsolve find --format json \"cuda(model=$model)\" -> launcher $got"
    detail="$detail$(printf '\n%s' "$(tail -3 "$WORK/find.err")")"
    if [ "$expected" = "?" ]; then
        report SKIP "cuda(model=$model) (no H200 here)" "$detail"
    elif [ "$got" = "$expected" ]; then
        report PASS "cuda(model=$model) answered by: $expected" "$detail"
    else
        report FAIL "cuda(model=$model) answered by: $expected" "$detail"
    fi
done

# --- 2. the job gets its GPU, a CPU job none
out=$(rq submit "cuda(mem=10G)" -- env 2>&1)
line=$(printf '%s\n' "$out" | grep '^CUDA_VISIBLE_DEVICES=')
if [ "$COUNT" = 1 ] && [ "$line" = "CUDA_VISIBLE_DEVICES=$UUID0" ]; then
    report PASS "submit \"cuda(mem=10G)\" -- env: CUDA_VISIBLE_DEVICES is the one GPU" "$line"
elif [ "$COUNT" != 1 ] && [ -n "$line" ] && [ "$line" != "CUDA_VISIBLE_DEVICES=" ]; then
    report PASS "submit \"cuda(mem=10G)\" -- env: CUDA_VISIBLE_DEVICES is one GPU" "$line"
else
    report FAIL "submit \"cuda(mem=10G)\" -- env: CUDA_VISIBLE_DEVICES is the one GPU" \
        "${line:-no CUDA_VISIBLE_DEVICES line}$(printf '\n%s' "$(printf '%s\n' "$out" | grep -v '=' )")"
fi

out=$(rq submit "cpu(cores=1)" -- env 2>&1)
line=$(printf '%s\n' "$out" | grep '^CUDA_VISIBLE_DEVICES=')
[ "$line" = "CUDA_VISIBLE_DEVICES=" ] \
    && report PASS "submit \"cpu(cores=1)\" -- env: CUDA_VISIBLE_DEVICES is empty" "$line" \
    || report FAIL "submit \"cpu(cores=1)\" -- env: CUDA_VISIBLE_DEVICES is empty" "${line:-$out}"

out=$(rq submit "cuda(mem=10G)" --dry-run -- env 2>&1)
shown='GPU-[0-9a-fA-F-]*'
[ "$COUNT" = 1 ] && shown=$UUID0
printf '%s\n' "$out" | grep -q "^# would run: CUDA_VISIBLE_DEVICES=$shown env$" \
    && report PASS "--dry-run shows the variable" "$out" \
    || report FAIL "--dry-run shows the variable" "$out"

# What CUDA itself sees (the driver API, no toolkit needed): 1 device, then none.
CUDA_COUNT='
import ctypes, os, sys
if os.environ.get("CHECK_SKIP_CUDA"):
    print("skip: CHECK_SKIP_CUDA is set (a fake nvidia-smi: CUDA would see other GPUs)")
    sys.exit(0)
try:
    cuda = ctypes.CDLL("libcuda.so.1")
except OSError as exc:
    print(f"skip: {exc}"); sys.exit(0)
code = cuda.cuInit(0)
count = ctypes.c_int(0)
if code == 0:
    cuda.cuDeviceGetCount(ctypes.byref(count))
print(f"cuInit={code} devices={count.value}")'
seen_gpu=$(rq submit "cuda()" -- "$PY" -c "$CUDA_COUNT" 2>&1 | tail -1)
seen_cpu=$(rq submit "cpu(cores=1)" -- "$PY" -c "$CUDA_COUNT" 2>&1 | tail -1)
case "$seen_gpu" in
    skip:*) report SKIP "CUDA sees the job's GPUs only" "$seen_gpu" ;;
    *"devices=1") case "$seen_cpu" in
        *"devices=0") report PASS "CUDA sees 1 device in a cuda() job, 0 in a CPU job" \
            "cuda(): $seen_gpu$(printf '\ncpu(): %s' "$seen_cpu")" ;;
        *) report FAIL "CUDA sees no device in a CPU job" "cpu(): $seen_cpu" ;;
        esac ;;
    *) report FAIL "CUDA sees 1 device in a cuda() job" "cuda(): $seen_gpu" ;;
esac

# --- 3. two jobs of cuda() on one GPU: one after the other
JOB='echo "start $1 ${CUDA_VISIBLE_DEVICES-unset}" >> "$2"; while [ ! -e "$3" ]; do sleep 0.05; done; echo "end $1" >> "$2"'
wait_for() {  # wait_for PATTERN FILE
    for _ in $(seq $((WAIT_S * 20))); do
        grep -q "$1" "$2" 2>/dev/null && return 0
        sleep 0.05
    done
    return 1
}
if [ "$COUNT" = 1 ]; then
    : >"$LOG"
    rq submit "cuda()" -- sh -c "$JOB" job A "$LOG" "$WORK/gate-A" >"$WORK/a.out" 2>&1 &
    PID_A=$!
    wait_for "^start A" "$LOG"
    rq submit "cuda()" -- sh -c "$JOB" job B "$LOG" "$WORK/gate-B" >"$WORK/b.out" 2>&1 &
    PID_B=$!
    wait_for "waiting for" "$WORK/b.out"
    early=$(grep -c "^start B" "$LOG")
    refused=$(rq submit --no-wait "cuda()" -- true 2>&1); refused_code=$?
    touch "$WORK/gate-A"
    wait_for "^start B" "$LOG"
    touch "$WORK/gate-B"
    wait "$PID_A"; code_a=$?
    wait "$PID_B"; code_b=$?
    order=$(cut -d' ' -f1,2 "$LOG" | tr '\n' ' ')
    detail="$(cat "$LOG")$(printf '\nsecond submit: %s' "$(cat "$WORK/b.out")")"
    if [ "$early" = 0 ] && [ "$order" = "start A end A start B end B " ] \
        && [ "$code_a" = 0 ] && [ "$code_b" = 0 ]; then
        report PASS "two concurrent submits of cuda() run one after the other" "$detail"
    else
        report FAIL "two concurrent submits of cuda() run one after the other" \
            "$detail$(printf '\nexit codes %s %s' "$code_a" "$code_b")"
    fi
    [ "$refused_code" = 75 ] \
        && report PASS "--no-wait while the GPU is held: refused, exit 75" "$refused" \
        || report FAIL "--no-wait while the GPU is held: refused, exit 75" \
            "exit $refused_code: $refused"

    # released when the job is killed (SIGKILL of the job) or crashes
    : >"$LOG"
    rq submit "cuda()" -- sh -c 'echo "pid $$" >> "$1"; exec sleep 600' job "$LOG" \
        >"$WORK/k.out" 2>&1 &
    PID_K=$!
    wait_for "^pid" "$LOG"
    kill -9 "$(cut -d' ' -f2 "$LOG" | head -1)"
    wait "$PID_K"; code_k=$?
    crash=$(rq submit "cuda()" -- sh -c 'kill -SEGV $$' 2>&1); code_c=$?
    after=$(rq submit --no-wait "cuda()" -- sh -c 'echo got $CUDA_VISIBLE_DEVICES' 2>&1)
    code_after=$?
    detail="SIGKILLed job: submit exit $code_k; crashed job: exit $code_c $crash"
    detail="$detail$(printf '\nnext job: exit %s %s' "$code_after" "$after")"
    [ "$code_k" = 137 ] && [ "$code_c" = 139 ] && [ "$code_after" = 0 ] \
        && report PASS "the GPU is released when the job is SIGKILLed or crashes" "$detail" \
        || report FAIL "the GPU is released when the job is SIGKILLed or crashes" "$detail"
else
    report SKIP "concurrent submits on a one-GPU machine" "$COUNT GPUs here"
fi

echo
if [ "$FAILED" = 0 ]; then echo "ALL PASSED"; else echo "SOME CHECKS FAILED"; fi
exit "$FAILED"
