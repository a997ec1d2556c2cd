#!/usr/bin/env bash
# The GPU check of issue 28, in one call (at most 8 minutes on one H100/H200):
#   1. the GPU tests                         pytest -m gpu                                   (timeout 90 s)
#   2. the engine benchmark at E = 1, 64, 1024, 4096 on CUDA (benchmarks/ensemble.py)        (timeout 270 s)
#   3. one full-size trained claim:  lsgan-theory verify --full --only optimal-critic-least_squares (timeout 105 s)
# each under its own `timeout` (killed 5 s after it; 480 s at most in all), then a block to paste into a note (device, versions, each step's exit status and
# time, the benchmark table, the verdict).
#
# Usage, from the repository root with the virtual environment at .venv:
#     bash benchmarks/gpu_check.sh
# Without a CUDA device it refuses (exit 2).  GPU_CHECK_DRY=1 runs the same plumbing on the CPU at toy sizes (GPU
# tests skipped, benchmark --quick at E = 1 4 on ls1d, the claim at --quick) to check the script itself; its figures
# mean nothing.  PYTHON=... overrides the interpreter (default .venv/bin/python).
set -u

cd "$(dirname "${BASH_SOURCE[0]}")/.." || exit 2
PY="${PYTHON:-.venv/bin/python}"
DRY="${GPU_CHECK_DRY:-0}"
if [ ! -x "$PY" ] && ! command -v "$PY" >/dev/null 2>&1; then
    echo "gpu_check: no Python at $PY (create the virtual environment at .venv, or set PYTHON=...)" >&2
    exit 2
fi
if ! "$PY" -c "import lsgan_theory, torch" >/dev/null 2>&1; then
    echo "gpu_check: $PY cannot import lsgan_theory and torch (pip install -e . in the venv)" >&2
    exit 2
fi
HAVE_CUDA=$("$PY" -c "import torch; print(int(torch.cuda.is_available()))" 2>/dev/null || echo 0)
if [ "$HAVE_CUDA" != 1 ] && [ "$DRY" != 1 ]; then
    echo "gpu_check: no CUDA device visible to torch (torch.cuda.is_available() is False): nothing was run." >&2
    echo "gpu_check: run it on a machine with one GPU; GPU_CHECK_DRY=1 checks the script on the CPU (toy sizes)." >&2
    exit 2
fi

LOG=$(mktemp -d "${TMPDIR:-/tmp}/gpu_check.XXXXXX")
START=$(date +%s)
SUMMARY=()

step() {  # step NAME TIMEOUT_S CMD...: run, keep the output in $LOG/NAME.txt, note exit status and seconds
    local name=$1 limit=$2
    shift 2
    local t0 rc
    t0=$(date +%s)
    echo "=== $name (timeout ${limit} s): $*"
    timeout --kill-after=5 "$limit" "$@" >"$LOG/$name.txt" 2>&1
    rc=$?
    tail -n 40 "$LOG/$name.txt"
    local note=""
    if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then note=" (TIMED OUT)"; fi
    SUMMARY+=("$name: exit $rc$note in $(( $(date +%s) - t0 )) s")
}

export PYTHONUNBUFFERED=1
if [ "$DRY" = 1 ]; then
    export OMP_NUM_THREADS=1
    SUMMARY+=("gpu-tests: skipped (GPU_CHECK_DRY=1: CUDA only)")
    step benchmark 240 "$PY" benchmarks/ensemble.py --device cpu --quick --E 1 4 --configs ls1d
    step claim 130 "$PY" -m lsgan_theory verify --quick --only optimal-critic-least_squares --quiet --out "$LOG/report"
else
    step gpu-tests 90 "$PY" -m pytest -q -m gpu -p no:cacheprovider tests
    step benchmark 270 "$PY" benchmarks/ensemble.py --device cuda --E 1 64 1024 4096 --rounds 1 --seconds 1
    step claim 105 "$PY" -m lsgan_theory verify --full --require-gpu --only optimal-critic-least_squares --quiet \
        --out "$LOG/report"
fi

echo
echo "----- paste into a note (issue 28 GPU check) -----"
echo "date: $(date -u '+%Y-%m-%d %H:%M UTC'); git: $(git rev-parse --short HEAD 2>/dev/null || echo unknown)$( [ -n "$(git status --porcelain 2>/dev/null)" ] && echo ' (uncommitted changes)')"
"$PY" -c "import torch, lsgan_theory as L; c = torch.cuda.is_available(); print('lsgan-theory', L.__version__, '| torch', torch.__version__, '| CUDA', torch.version.cuda, '|', torch.cuda.get_device_name(0) if c else 'no GPU (dry run on the CPU)')"
if [ "$DRY" = 1 ]; then echo "DRY RUN (GPU_CHECK_DRY=1): CPU, toy sizes; the figures below mean nothing"; fi
for s in "${SUMMARY[@]}"; do echo "  $s"; done
echo "benchmark:"
grep -E "peak|^config|^ring|^ls1d|^-" "$LOG/benchmark.txt" 2>/dev/null | sed 's/^/  /'
echo "claim:"
grep -iE "pass|fail|verdict|error" "$LOG/claim.txt" 2>/dev/null | tail -n 8 | sed 's/^/  /'
[ -f "$LOG/report/report.md" ] && grep -E "optimal-critic-least_squares" "$LOG/report/report.md" | head -n 3 | sed 's/^/  /'
echo "total: $(( $(date +%s) - START )) s; full outputs in $LOG"
echo "-----"
