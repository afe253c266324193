// CPU-only self-check of the kernels' weight decoding: the unit loaders of src/main/cuda/quant.cuh
// (the code every matmul_T / moe_matmul_T / dequant_rows_T kernel runs), compiled as host code, must
// give bit for bit the values of the independent scalar reference (reference.h) on random rows, at
// every byte alignment of the row. Needs nvcc, no GPU; not part of the Maven build.
//
//   cd memwall-cuda/src/test/cuda && ./run-dequant-check.sh
#include "../../main/cuda/quant.cuh"
#include "reference.h"
#include <stdio.h>
#include <stdlib.h>
#include <vector>

using namespace mw;

static int failures = 0;

template <class F, bool V>
static void check(int f, const uint8_t* row, int k, const float* expect, int misalign) {
    constexpr int U = F::template unit<V>();
    static const float lut[16] = MW_E2M1X2;
    for (int u = 0; u < k / U; u++) {
        float w[U];
        F::template load<V, U>(row, u, w, lut);
        for (int e = 0; e < U; e++) {
            int i = F::template base<V>(u) + F::off(e);
            if (memcmp(&w[e], &expect[i], 4) != 0) {
                if (failures++ < 20) {
                    printf("FAIL %s V=%d misalign=%d unit %d weight %d (row index %d): got %.9g want %.9g\n",
                           ref::NAMES[f], V, misalign, u, e, i, w[e], expect[i]);
                }
            }
        }
    }
}

template <class F>
static void run(int f, int k, int rowsToTest) {
    uint64_t seed = 0x9E3779B97F4A7C15ull ^ (uint64_t)f * 1234567;
    long long rb = ref::row_bytes(f, k);
    std::vector<uint8_t> buf(rb + 64);
    std::vector<float> expect(k);
    for (int r = 0; r < rowsToTest; r++) {
        for (int mis = 0; mis < 16; mis++) {
            uint8_t* row = (uint8_t*)(((uintptr_t)buf.data() + 15) & ~(uintptr_t)15) + mis;
            ref::random_row(f, k, row, seed);
            ref::dequant(f, row, k, expect.data());
            check<F, false>(f, row, k, expect.data(), mis);
            if (mis == 0 && k % F::template unit<true>() == 0) {
                check<F, true>(f, row, k, expect.data(), mis);
            }
        }
    }
    printf("%-6s k=%d: checked\n", ref::NAMES[f], k);
}

int main() {
    run<FmtF32>(ref::F32, 1024, 4);
    run<FmtHalf<false>>(ref::F16, 1024, 4);
    run<FmtHalf<true>>(ref::BF16, 1024, 4);
    run<FmtQ8_0>(ref::Q8_0, 4096, 8);
    run<FmtQ4_0>(ref::Q4_0, 4096, 8);
    run<FmtMXFP4>(ref::MXFP4, 2880, 8);
    run<FmtQK45<false>>(ref::Q4_K, 4096, 8);
    run<FmtQK45<true>>(ref::Q5_K, 4096, 8);
    run<FmtQ6_K>(ref::Q6_K, 4096, 8);
    // Every E8M0 exponent, including the subnormal scales 2^-128 and 2^-127.
    for (int e = 0; e < 256; e++) {
        float want = ldexpf(1.0f, e - 128), got = e8m0_half(e);
        if (memcmp(&want, &got, 4) != 0 && failures++ < 20) {
            printf("FAIL e8m0 %d: got %g want %g\n", e, got, want);
        }
    }
    if (failures) {
        printf("%d mismatches\n", failures);
        return 1;
    }
    printf("all formats decode bit for bit as the reference\n");
    return 0;
}
