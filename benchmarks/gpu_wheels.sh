#!/usr/bin/env bash
# Fetch, on a machine with pip access, the wheels that a GPU machine without package access lacks
# for benchmarks/gpu_check.sh: cvxpy and its CLARABEL/SCS solvers (certificates; PEPit, the outside
# reference of the PEP claims, solves with SCS when MOSEK is absent) and PEPit. Into ./.whl (about
# 52 MB; ignored by git through .git/info/exclude). Target: CPython 3.12 on x86-64 manylinux, the
# python of the device image (KINDS.md: /opt/torch/.venv/bin/python3 3.12, with numpy, scipy, sympy,
# matplotlib, numba and torch already there). Run from the repository root:
#     bash benchmarks/gpu_wheels.sh && (device run with carry [".whl"]) bash benchmarks/gpu_check.sh
set -eu
PYV="${PYV:-3.12}"
mkdir -p .whl
grep -qx '/.whl/' .git/info/exclude 2>/dev/null || echo '/.whl/' >> .git/info/exclude
python3 -m pip download -q --no-deps --only-binary=:all: --python-version "$PYV" --implementation cp \
    --platform manylinux_2_28_x86_64 --platform manylinux_2_27_x86_64 --platform manylinux_2_24_x86_64 \
    --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 --platform manylinux1_x86_64 -d .whl \
    "cvxpy==1.9.3" "clarabel==0.11.1" "qdldl==0.1.9.post1" "scs==3.3.1" "cffi" "pycparser" "PEPit==0.5.1"
ls -la .whl
du -sh .whl
