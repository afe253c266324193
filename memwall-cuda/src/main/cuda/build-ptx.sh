#!/usr/bin/env bash
# Regenerates memwall-cuda/src/main/resources/org/memwall/cuda/memwall.ptx from memwall.cu.
#
# PTX for compute_80 (the driver JIT-compiles it for Ampere, Hopper and later). IEEE float semantics:
# no fast math, denormals kept, correctly rounded division and square root, and no contraction of
# a*b+c into fused multiply-adds (-fmad=false: the kernels write every fmaf they want). No -G, no
# -lineinfo and the source is compiled from this directory by relative name, so the output holds no
# host paths or times: PtxTest (committedPtxIsFreshFromTheSources) recompiles with exactly these flags
# and compares byte for byte.
#
# Usage: build-ptx.sh [output]   (default: the committed resource). NVCC overrides the compiler.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
out="${1:-$here/../resources/org/memwall/cuda/memwall.ptx}"
case "$out" in /*) ;; *) out="$PWD/$out" ;; esac
nvcc="${NVCC:-}"
if [ -z "$nvcc" ]; then
    if [ -x /usr/local/cuda/bin/nvcc ]; then nvcc=/usr/local/cuda/bin/nvcc; else nvcc=nvcc; fi
fi
cd "$here"
"$nvcc" -ptx -arch=compute_80 -O3 -std=c++17 \
    -ftz=false -prec-div=true -prec-sqrt=true -fmad=false \
    -Xptxas=-O3 \
    -o "$out" memwall.cu
