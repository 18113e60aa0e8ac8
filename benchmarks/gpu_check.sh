#!/usr/bin/env bash
# One-shot device check (issue 12; about 9 minutes at most: fits one 10-minute device call): the CUDA tests, the GPU benchmark, the engine benchmark on the
# device and the full claims suite on CUDA, every output under $OUT (default ./gpu-results).
# Run from the repository root on a machine with an NVIDIA GPU:  bash benchmarks/gpu_check.sh
# Nothing is downloaded: it uses the python (and torch with CUDA) found on the machine, installs the
# wheels carried in ./.whl (benchmarks/gpu_wheels.sh fetches them beforehand: cvxpy, CLARABEL, SCS,
# PEPit, which the device image lacks) and polyak from this checkout without dependencies.
set -u
OUT="${OUT:-$PWD/gpu-results}"
mkdir -p "$OUT"
PY="${PYTHON:-python3}"
log() { echo "[$(date -u +%H:%M:%S)] $*" | tee -a "$OUT/log.txt"; }

log "machine: $(uname -a)"
nvidia-smi > "$OUT/nvidia-smi.txt" 2>&1 || log "nvidia-smi failed"
if [ -d .whl ] && ls .whl/*.whl > /dev/null 2>&1; then  # carried wheels (benchmarks/gpu_wheels.sh)
    "$PY" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl \
        > "$OUT/wheels.txt" 2>&1 && export PYTHONPATH="/tmp/site${PYTHONPATH:+:$PYTHONPATH}" \
        || log "installing the carried wheels failed (see wheels.txt)"
fi
"$PY" - > "$OUT/env.txt" 2>&1 <<'PYEOF'
import sys, platform
print(sys.version)
try:
    import torch
    print("torch", torch.__version__, "cuda", torch.version.cuda, "available", torch.cuda.is_available())
    if torch.cuda.is_available():
        print(torch.cuda.get_device_name(0), torch.cuda.get_device_properties(0))
except Exception as exc:  # report, do not stop
    print("torch import failed:", exc)
for mod in ("numpy", "scipy", "sympy", "cvxpy", "clarabel", "scs", "PEPit", "numba", "pytest"):
    try:
        m = __import__(mod); print(mod, m.__version__)
    except Exception as exc:
        print(mod, "missing:", exc)
PYEOF
cat "$OUT/env.txt" | tee -a "$OUT/log.txt"
"$PY" -c "import polyak" 2>/dev/null || "$PY" -m pip install --no-deps --no-build-isolation -e . > "$OUT/install.txt" 2>&1 \
    || log "install failed (see install.txt); running from the checkout with PYTHONPATH"
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"

log "CUDA tests (-m gpu)"
timeout 120 "$PY" -m pytest -q -p no:cacheprovider -m gpu tests > "$OUT/pytest-gpu.txt" 2>&1; echo "rc=$?" >> "$OUT/pytest-gpu.txt"
tail -3 "$OUT/pytest-gpu.txt" | tee -a "$OUT/log.txt"

log "GPU benchmark (1e6 runs, float32 and float64, dense case)"
timeout 200 "$PY" benchmarks/gpu.py --device cuda --json "$OUT/gpu.json" > "$OUT/gpu.txt" 2>&1; echo "rc=$?" >> "$OUT/gpu.txt"
cat "$OUT/gpu.txt" | tee -a "$OUT/log.txt"

log "engine benchmark on the device"
# (the eager fused kernels: compiling three structures would not fit the 90 s; gpu.py times the compiled step)
POLYAK_TORCH_COMPILE=0 timeout 90 "$PY" benchmarks/engine.py --backend torch --device cuda --repeat 2 > "$OUT/engine-cuda.json" 2>&1; echo "rc=$?" >> "$OUT/engine-cuda.json"

log "polyak verify --suite full --backend torch --device cuda"
timeout 150 "$PY" -m polyak verify --suite full --backend torch --device cuda --json "$OUT/verify-full-cuda.json" \
    > "$OUT/verify-full-cuda.txt" 2>&1; echo "rc=$?" >> "$OUT/verify-full-cuda.txt"
tail -5 "$OUT/verify-full-cuda.txt" | tee -a "$OUT/log.txt"
log "done"
