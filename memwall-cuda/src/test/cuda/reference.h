// Independent scalar dequantization of the ggml block formats, written from the layouts documented in
// memwall-core (org.memwall.quant.*), element by element in the most literal form; the kernels' unit
// loaders (src/main/cuda/quant.cuh) are checked against it. Plain host C++ (compiled by nvcc for the
// half conversion only).
#pragma once
#include <cuda_fp16.h>
#include <stdint.h>
#include <string.h>
#include <math.h>

namespace ref {

enum Fmt { F32, F16, BF16, Q8_0, Q4_0, Q4_K, Q5_K, Q6_K, MXFP4, NFMT };
static const char* NAMES[NFMT] = {"f32", "f16", "bf16", "q8_0", "q4_0", "q4_k", "q5_k", "q6_k", "mxfp4"};
static const int BLOCK_W[NFMT] = {1, 1, 1, 32, 32, 256, 256, 256, 32};
static const int BLOCK_B[NFMT] = {4, 2, 2, 34, 18, 144, 176, 210, 17};

inline long long row_bytes(int f, int k) { return (long long)k / BLOCK_W[f] * BLOCK_B[f]; }

inline float half_at(const uint8_t* p) {
    uint16_t h = (uint16_t)(p[0] | p[1] << 8);
    return __half2float(__ushort_as_half(h));
}

/** Q4_K/Q5_K sub-block scale and min, byte by byte as in the layout comment of Q4_K.java / Blocks. */
inline void scale_min(const uint8_t* b, int s, int& sc, int& mn) {
    if (s < 4) {
        sc = b[s] & 63;
        mn = b[s + 4] & 63;
    } else {
        sc = (b[s + 4] & 15) | ((b[s - 4] >> 6) << 4);
        mn = (b[s + 4] >> 4) | ((b[s] >> 6) << 4);
    }
}

inline void dequant(int f, const uint8_t* row, int k, float* out) {
    static const float E2M1X2[16] = {0, 1, 2, 3, 4, 6, 8, 12, 0, -1, -2, -3, -4, -6, -8, -12};
    for (int i = 0; i < k; i++) {
        float v = 0;
        switch (f) {
        case F32: memcpy(&v, row + 4 * i, 4); break;
        case F16: v = half_at(row + 2 * i); break;
        case BF16: {
            uint32_t bits = (uint32_t)(row[2 * i] | row[2 * i + 1] << 8) << 16;
            memcpy(&v, &bits, 4);
            break;
        }
        case Q8_0: {
            const uint8_t* b = row + 34 * (i / 32);
            v = (float)(int8_t)b[2 + i % 32] * half_at(b);
            break;
        }
        case Q4_0: {
            const uint8_t* b = row + 18 * (i / 32);
            int j = i % 32;
            int nib = j < 16 ? b[2 + j] & 15 : b[2 + j - 16] >> 4;
            v = (float)(nib - 8) * half_at(b);
            break;
        }
        case MXFP4: {
            const uint8_t* b = row + 17 * (i / 32);
            int j = i % 32;
            int nib = j < 16 ? b[1 + j] & 15 : b[1 + j - 16] >> 4;
            v = E2M1X2[nib] * ldexpf(1.0f, (int)b[0] - 128);
            break;
        }
        case Q4_K:
        case Q5_K: {
            bool five = f == Q5_K;
            const uint8_t* b = row + (five ? 176 : 144) * (i / 256);
            int j = i % 256, s = j / 32, c = j / 64, l = j % 32;
            const uint8_t* qs = b + (five ? 48 : 16);
            int q = (s & 1) ? qs[32 * c + l] >> 4 : qs[32 * c + l] & 15;
            if (five) {
                q += ((b[16 + l] >> s) & 1) * 16;
            }
            int sc, mn;
            scale_min(b + 4, s, sc, mn);
            float d = half_at(b), dmin = half_at(b + 2);
            v = fmaf((float)q, d * (float)sc, -dmin * (float)mn);
            break;
        }
        case Q6_K: {
            const uint8_t* b = row + 210 * (i / 256);
            int j = i % 256, h = j / 128, r = j % 128, t = r / 32, l = r % 32;
            const uint8_t* ql = b + 64 * h;
            const uint8_t* qh = b + 128 + 32 * h;
            const int8_t* sc = (const int8_t*)(b + 192 + 8 * h);
            int low = (t < 2) ? ql[l + 32 * (t & 1)] & 15 : ql[l + 32 * (t & 1)] >> 4;
            int high = (qh[l] >> (2 * t)) & 3;
            int q = (low | high << 4) - 32;
            v = (float)q * (half_at(b + 208) * (float)sc[l / 16 + 2 * t]);
            break;
        }
        }
        out[i] = v;
    }
}

/** Random valid bytes for k weights of format f: random quants, finite scales of moderate size. */
inline void random_row(int f, int k, uint8_t* row, uint64_t& seed) {
    auto next = [&]() {
        seed ^= seed << 13; seed ^= seed >> 7; seed ^= seed << 17;
        return seed;
    };
    auto unif = [&]() { return (float)((next() >> 11) * (1.0 / 9007199254740992.0)) * 2.0f - 1.0f; };
    auto put_half = [&](uint8_t* p, float x) {
        uint16_t h = __half_as_ushort(__float2half(x));
        p[0] = h & 0xFF; p[1] = h >> 8;
    };
    long long rb = row_bytes(f, k);
    for (long long i = 0; i < rb; i++) {
        row[i] = (uint8_t)next();
    }
    switch (f) {
    case F32:
        for (int i = 0; i < k; i++) { float x = unif(); memcpy(row + 4 * i, &x, 4); }
        break;
    case F16:
        for (int i = 0; i < k; i++) put_half(row + 2 * i, unif());
        break;
    case BF16:
        for (int i = 0; i < k; i++) { float x = unif(); uint32_t b; memcpy(&b, &x, 4); row[2*i] = (b >> 16) & 0xFF; row[2*i+1] = b >> 24; }
        break;
    case Q8_0: for (int b = 0; b < k / 32; b++) put_half(row + 34 * b, unif() * 0.01f); break;
    case Q4_0: for (int b = 0; b < k / 32; b++) put_half(row + 18 * b, unif() * 0.05f); break;
    case MXFP4: for (int b = 0; b < k / 32; b++) row[17 * b] = (uint8_t)(118 + next() % 12); break;
    case Q4_K: case Q5_K:
        for (int b = 0; b < k / 256; b++) {
            uint8_t* p = row + (f == Q5_K ? 176 : 144) * b;
            put_half(p, unif() * 0.002f);
            put_half(p + 2, unif() * 0.002f);
        }
        break;
    case Q6_K: for (int b = 0; b < k / 256; b++) put_half(row + 210 * b + 208, unif() * 0.0005f); break;
    }
}

} // namespace ref
