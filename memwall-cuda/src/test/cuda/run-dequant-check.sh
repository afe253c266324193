#!/usr/bin/env bash
# Builds and runs the CPU-only decode self-check (no GPU needed). Not part of the Maven build.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
nvcc="${NVCC:-/usr/local/cuda/bin/nvcc}"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
"$nvcc" -std=c++17 -O2 -fmad=false -o "$tmp/dequant_check" dequant_check.cu
"$tmp/dequant_check"
