#!/usr/bin/env bash
# Builds gpu_check (memwall.cu compiled in, for ARCH, default sm_90) and runs it: needs a GPU.
# BUILD_ONLY=1 just builds into ${OUT_BIN:-./gpu_check}.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
nvcc="${NVCC:-/usr/local/cuda/bin/nvcc}"
bin="${OUT_BIN:-$PWD/gpu_check}"
"$nvcc" -std=c++17 -O3 -arch="${ARCH:-sm_90}" -ftz=false -prec-div=true -prec-sqrt=true -fmad=false \
    -o "$bin" gpu_check.cu
[ "${BUILD_ONLY:-0}" = 1 ] || "$bin" "$@"
