// Weight formats for memwall's kernels: how a row of each ggml block format is cut into "units" (the
// pieces one lane dequantizes in one step) and how a unit is dequantized. Included by memwall.cu, and
// by the host self-check in src/test/cuda, so everything here is __host__ __device__.
//
// Values are those of the Java reference (memwall-core org.memwall.quant.*#dequantize) bit for bit:
// the same float operations in the same order (Q4_K/Q5_K: one fused multiply-add d·sc·q − dmin·mn).
#pragma once

#include <stdint.h>
#ifndef __CUDACC__
#error "compile with nvcc"
#endif
#include <cuda_fp16.h>
#ifndef __CUDA_ARCH__
#include <string.h>
#endif

#define MW_HD __host__ __device__ __forceinline__

namespace mw {

// ---- loads ----------------------------------------------------------------------------------------

/** A 4-byte-aligned 32-bit little-endian word, through the read-only path. */
MW_HD uint32_t ld32a(const uint8_t* p) {
#ifdef __CUDA_ARCH__
    return __ldg(reinterpret_cast<const unsigned int*>(p));
#else
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
#endif
}

/** A 16-byte-aligned 128-bit load. */
MW_HD uint4 ld128a(const uint8_t* p) {
#ifdef __CUDA_ARCH__
    return __ldg(reinterpret_cast<const uint4*>(p));
#else
    uint4 v;
    memcpy(&v, p, 16);
    return v;
#endif
}

MW_HD uint32_t ld8(const uint8_t* p) {
#ifdef __CUDA_ARCH__
    return __ldg(p);
#else
    return *p;
#endif
}

/** 16 bits at any alignment (two byte loads). */
MW_HD uint32_t ld16u(const uint8_t* p) {
    return ld8(p) | (ld8(p + 1) << 8);
}

/** (hi:lo) >> sh, sh in 0..31. */
MW_HD uint32_t fshr(uint32_t lo, uint32_t hi, uint32_t sh) {
#ifdef __CUDA_ARCH__
    return __funnelshift_r(lo, hi, sh);
#else
    return sh == 0 ? lo : (lo >> sh) | (hi << (32 - sh));
#endif
}

/** PRMT: bytes of {b:a} picked by the four selector nibbles (each 0..7 here). */
MW_HD uint32_t bperm(uint32_t a, uint32_t b, uint32_t s) {
#ifdef __CUDA_ARCH__
    return __byte_perm(a, b, s);
#else
    uint64_t v = (uint64_t)b << 32 | a;
    uint32_t r = 0;
    for (int i = 0; i < 4; i++) {
        r |= (uint32_t)((v >> (8 * ((s >> (4 * i)) & 7))) & 0xFF) << (8 * i);
    }
    return r;
#endif
}

/**
 * N little-endian words from p at any alignment: the aligned words that hold the bytes, funnel-shifted.
 * Reads only aligned words that contain at least one of the requested bytes (never past them).
 */
template <int N>
MW_HD void ldu(const uint8_t* p, uint32_t (&out)[N]) {
    uintptr_t a = reinterpret_cast<uintptr_t>(p);
    const uint8_t* b = reinterpret_cast<const uint8_t*>(a & ~(uintptr_t)3);
    uint32_t sh = (uint32_t)(a & 3) * 8;
    uint32_t w[N + 1];
#pragma unroll
    for (int i = 0; i < N; i++) {
        w[i] = ld32a(b + 4 * i);
    }
    w[N] = sh != 0 ? ld32a(b + 4 * N) : 0u;
#pragma unroll
    for (int i = 0; i < N; i++) {
        out[i] = fshr(w[i], w[i + 1], sh);
    }
}

// ---- scalar conversions ---------------------------------------------------------------------------

/** The float with these bits. */
MW_HD float as_float(uint32_t bits) {
#ifdef __CUDA_ARCH__
    return __uint_as_float(bits);
#else
    float f;
    memcpy(&f, &bits, 4);
    return f;
#endif
}

MW_HD float f16(uint32_t bits) {
    return __half2float(__ushort_as_half((unsigned short)(bits & 0xFFFF)));
}

MW_HD float bf16(uint32_t bits) {
    return as_float(bits << 16);
}

/**
 * Byte i of v (0..255) as a float minus bias: 2^23 + byte built in the bits, 2^23 + bias subtracted;
 * exact for every byte and bias in 0..255 (no int-to-float conversion unit involved).
 */
template <int I>
MW_HD float byte_f(uint32_t v, float magic_minus_bias) {
    return as_float(bperm(v, 0x4B000000u, 0x7440u + I)) - magic_minus_bias;
}
constexpr float MAGIC = 8388608.0f; // 2^23

/** 2^(e − 128) for an E8M0 byte e (e = 0, 1: the subnormals 2^−128, 2^−127). */
MW_HD float e8m0_half(uint32_t e) {
    return as_float(e >= 2 ? (e - 1) << 23 : 0x00200000u << e);
}

/** Four bytes of v as floats minus bias, into w[at..at+3] (w[at + i] = byte i). */
template <int AT, int N>
MW_HD void bytes4(uint32_t v, float bias_magic, float (&w)[N]) {
    w[AT + 0] = byte_f<0>(v, bias_magic);
    w[AT + 1] = byte_f<1>(v, bias_magic);
    w[AT + 2] = byte_f<2>(v, bias_magic);
    w[AT + 3] = byte_f<3>(v, bias_magic);
}

// ---- formats --------------------------------------------------------------------------------------
//
// Each format F has, for V = false (any alignment) and V = true (row base and rowBytes 16-byte
// aligned, k a multiple of the unit; callers check):
//   F::unit<V>        weights per unit
//   F::base<V>(u)     the row index of the unit's first weight
//   F::off(e)         constexpr: unit weight e is at base + off(e); runs of 4 consecutive e are
//                     consecutive in the row (so x can be read as float4)
//   F::load<V>(row, u, w, lut)   the unit's dequantized weights (lut: MXFP4's 16-entry table)
// F::blockBytes / F::blockWeights describe the ggml block (the host's rowBytes = k / bw · bb).

struct FmtF32 {
    template <bool V> __host__ __device__ static constexpr int unit() { return V ? 4 : 1; }
    template <bool V> MW_HD static int base(int u) { return u * unit<V>(); }
    MW_HD static constexpr int off(int e) { return e; }
    template <bool V, int U>
    MW_HD static void load(const uint8_t* row, int u, float (&w)[U], const float*) {
        if (V) {
            uint4 q = ld128a(row + 16 * u);
            w[0] = as_float(q.x);
            w[1 % U] = as_float(q.y);
            w[2 % U] = as_float(q.z);
            w[3 % U] = as_float(q.w);
        } else {
            uint32_t q[1];
            ldu<1>(row + 4 * u, q);
            w[0] = as_float(q[0]);
        }
    }
};

template <bool BF>
struct FmtHalf {
    template <bool V> __host__ __device__ static constexpr int unit() { return V ? 8 : 1; }
    template <bool V> MW_HD static int base(int u) { return u * unit<V>(); }
    MW_HD static constexpr int off(int e) { return e; }
    MW_HD static float cvt(uint32_t bits) { return BF ? bf16(bits) : f16(bits); }
    template <bool V, int U>
    MW_HD static void load(const uint8_t* row, int u, float (&w)[U], const float*) {
        if (V) {
            uint4 q = ld128a(row + 16 * u);
            uint32_t a[4] = {q.x, q.y, q.z, q.w};
#pragma unroll
            for (int i = 0; i < 4; i++) {
                w[(2 * i) % U] = cvt(a[i]);
                w[(2 * i + 1) % U] = cvt(a[i] >> 16);
            }
        } else {
            w[0] = cvt(ld16u(row + 2 * u));
        }
    }
};

/** Q8_0: 34 bytes = f16 d, int8 qs[32]; weight j = qs[j] · d. Unit: one block. */
struct FmtQ8_0 {
    template <bool V> __host__ __device__ static constexpr int unit() { return 32; }
    template <bool V> MW_HD static int base(int u) { return u * 32; }
    MW_HD static constexpr int off(int e) { return e; }
    template <bool V, int U>
    MW_HD static void load(const uint8_t* row, int u, float (&w)[U], const float*) {
        const uint8_t* b = row + 34 * (size_t)u;
        float d = f16(ld16u(b));
        uint32_t q[8];
        ldu<8>(b + 2, q);
#pragma unroll
        for (int i = 0; i < 8; i++) {
            uint32_t v = q[i] ^ 0x80808080u; // int8 + 128
            float f[4];
            bytes4<0>(v, MAGIC + 128.0f, f);
#pragma unroll
            for (int j = 0; j < 4; j++) {
                w[(4 * i + j) % U] = f[j] * d;
            }
        }
    }
};

/** Q4_0: 18 bytes = f16 d, qs[16]; weight j < 16 = (low nibble of qs[j] − 8)·d, j + 16: high nibble. */
struct FmtQ4_0 {
    template <bool V> __host__ __device__ static constexpr int unit() { return 32; }
    template <bool V> MW_HD static int base(int u) { return u * 32; }
    MW_HD static constexpr int off(int e) { return e; }
    template <bool V, int U>
    MW_HD static void load(const uint8_t* row, int u, float (&w)[U], const float*) {
        const uint8_t* b = row + 18 * (size_t)u;
        float d = f16(ld16u(b));
        uint32_t q[4];
        ldu<4>(b + 2, q);
#pragma unroll
        for (int i = 0; i < 4; i++) {
            float lo[4], hi[4];
            bytes4<0>(q[i] & 0x0F0F0F0Fu, MAGIC + 8.0f, lo);
            bytes4<0>((q[i] >> 4) & 0x0F0F0F0Fu, MAGIC + 8.0f, hi);
#pragma unroll
            for (int j = 0; j < 4; j++) {
                w[(4 * i + j) % U] = lo[j] * d;
                w[(16 + 4 * i + j) % U] = hi[j] * d;
            }
        }
    }
};

/** MXFP4: 17 bytes = E8M0 e, qs[16]; weight j < 16 = E2M1x2[low nibble of qs[j]] · 2^(e−128), j + 16: high. */
struct FmtMXFP4 {
    template <bool V> __host__ __device__ static constexpr int unit() { return 32; }
    template <bool V> MW_HD static int base(int u) { return u * 32; }
    MW_HD static constexpr int off(int e) { return e; }
    template <bool V, int U>
    MW_HD static void load(const uint8_t* row, int u, float (&w)[U], const float* lut) {
        const uint8_t* b = row + 17 * (size_t)u;
        float d = e8m0_half(ld8(b));
        uint32_t q[4];
        ldu<4>(b + 1, q);
#pragma unroll
        for (int i = 0; i < 4; i++) {
#pragma unroll
            for (int j = 0; j < 4; j++) {
                w[(4 * i + j) % U] = lut[(q[i] >> (8 * j)) & 15] * d;
                w[(16 + 4 * i + j) % U] = lut[(q[i] >> (8 * j + 4)) & 15] * d;
            }
        }
    }
};

/** E2M1 values doubled (the MXFP4 codebook), by code. */
#define MW_E2M1X2 {0.f, 1.f, 2.f, 3.f, 4.f, 6.f, 8.f, 12.f, 0.f, -1.f, -2.f, -3.f, -4.f, -6.f, -8.f, -12.f}

/**
 * The 6-bit scale and min of K-quant sub-block s (0..7) from scales[12] read as words a0, a1, a2
 * (see memwall-core Blocks.scalesK4 / minsK4).
 */
MW_HD void k_scale_min(uint32_t a0, uint32_t a1, uint32_t a2, int s, uint32_t& sc, uint32_t& mn) {
    uint32_t sc4 = s < 4 ? a0 & 0x3F3F3F3Fu : (a2 & 0x0F0F0F0Fu) | ((a0 >> 2) & 0x30303030u);
    uint32_t mn4 = s < 4 ? a1 & 0x3F3F3F3Fu : ((a2 >> 4) & 0x0F0F0F0Fu) | ((a1 >> 2) & 0x30303030u);
    sc = (sc4 >> (8 * (s & 3))) & 0xFF;
    mn = (mn4 >> (8 * (s & 3))) & 0xFF;
}

/**
 * Q4_K (144 bytes) and Q5_K (176 bytes, FIVE): d, dmin, scales[12], [qh[32],] qs[128]. Unit p (0..7)
 * of a superblock: qs bytes 16p..16p+15, i.e. chunk c = p/2, bytes l = 16(p%2)..+15 of it: weights
 * 64c + l (low nibbles, sub-block 2c; unit weights 0..15) and 64c + 32 + l (high nibbles, sub-block
 * 2c+1; unit weights 16..31). Q5_K adds bit 2c / 2c+1 of qh[l] as 16.
 * Weight = fma(q, d·sc, −dmin·mn).
 */
template <bool FIVE>
struct FmtQK45 {
    static constexpr int BYTES = FIVE ? 176 : 144;
    static constexpr int QS = FIVE ? 48 : 16;
    template <bool V> __host__ __device__ static constexpr int unit() { return 32; }
    template <bool V> MW_HD static int base(int u) { return (u >> 3) * 256 + ((u >> 1) & 3) * 64 + (u & 1) * 16; }
    MW_HD static constexpr int off(int e) { return e < 16 ? e : 16 + e; }
    template <bool V, int U>
    MW_HD static void load(const uint8_t* row, int u, float (&w)[U], const float*) {
        const uint8_t* b = row + BYTES * (size_t)(u >> 3);
        int p = u & 7;
        int c = p >> 1;
        uint32_t h[4], q[4], qh[4];
        if (V) {
            uint4 hv = ld128a(b);
            uint4 qv = ld128a(b + QS + 16 * p);
            h[0] = hv.x; h[1] = hv.y; h[2] = hv.z; h[3] = hv.w;
            q[0] = qv.x; q[1] = qv.y; q[2] = qv.z; q[3] = qv.w;
            if (FIVE) {
                uint4 hb = ld128a(b + 16 + 16 * (p & 1));
                qh[0] = hb.x; qh[1] = hb.y; qh[2] = hb.z; qh[3] = hb.w;
            }
        } else {
            ldu<4>(b, h);
            ldu<4>(b + QS + 16 * p, q);
            if (FIVE) {
                ldu<4>(b + 16 + 16 * (p & 1), qh);
            }
        }
        float d = f16(h[0]);
        float dmin = f16(h[0] >> 16);
        uint32_t sc0, mn0, sc1, mn1;
        k_scale_min(h[1], h[2], h[3], 2 * c, sc0, mn0);
        k_scale_min(h[1], h[2], h[3], 2 * c + 1, sc1, mn1);
        float scale0 = d * (float)sc0, neg0 = -dmin * (float)mn0;
        float scale1 = d * (float)sc1, neg1 = -dmin * (float)mn1;
#pragma unroll
        for (int i = 0; i < 4; i++) {
            uint32_t lo = q[i] & 0x0F0F0F0Fu;
            uint32_t hi = (q[i] >> 4) & 0x0F0F0F0Fu;
            if (FIVE) {
                lo |= ((qh[i] >> (2 * c)) & 0x01010101u) << 4;
                hi |= ((qh[i] >> (2 * c + 1)) & 0x01010101u) << 4;
            }
            float fl[4], fh[4];
            bytes4<0>(lo, MAGIC, fl);
            bytes4<0>(hi, MAGIC, fh);
#pragma unroll
            for (int j = 0; j < 4; j++) {
                w[(4 * i + j) % U] = fmaf(fl[j], scale0, neg0);
                w[(16 + 4 * i + j) % U] = fmaf(fh[j], scale1, neg1);
            }
        }
    }
};

/**
 * Q6_K (210 bytes): ql[128], qh[64], int8 scales[16], f16 d. Unit p (0..7) of a superblock: half
 * h = p/4, l0 = 8(p%4); for t = 0..3 the 8 weights 128h + 32t + l0 + i (unit weights 8t + i):
 * nibble t/2 of ql[64h + 32(t%2) + l0 + i] | bits 2t..2t+1 of qh[32h + l0 + i] << 4, minus 32, times
 * d·sc[8h + l0/16 + 2t].
 */
struct FmtQ6_K {
    template <bool V> __host__ __device__ static constexpr int unit() { return 32; }
    template <bool V> MW_HD static int base(int u) { return (u >> 3) * 256 + ((u >> 2) & 1) * 128 + (u & 3) * 8; }
    MW_HD static constexpr int off(int e) { return (e >> 3) * 32 + (e & 7); }
    template <bool V, int U>
    MW_HD static void load(const uint8_t* row, int u, float (&w)[U], const float*) {
        const uint8_t* b = row + 210 * (size_t)(u >> 3);
        int h = (u >> 2) & 1;
        int l0 = (u & 3) * 8;
        uint32_t qa[2], qb[2], qh[2], sc[2];
        ldu<2>(b + 64 * h + l0, qa);
        ldu<2>(b + 64 * h + 32 + l0, qb);
        ldu<2>(b + 128 + 32 * h + l0, qh);
        ldu<2>(b + 192 + 8 * h, sc);
        float d = f16(ld16u(b + 208));
        // sc[l0/16 + 2t] of this half: bytes (u&3)/2 + {0, 2, 4, 6} of the 8 scale bytes.
        uint32_t sh = ((u & 3) >> 1) * 8;
        uint32_t s02 = sc[0] >> sh, s46 = sc[1] >> sh;
        float scale[4];
        scale[0] = d * (float)(int8_t)(s02 & 0xFF);
        scale[1] = d * (float)(int8_t)((s02 >> 16) & 0xFF);
        scale[2] = d * (float)(int8_t)(s46 & 0xFF);
        scale[3] = d * (float)(int8_t)((s46 >> 16) & 0xFF);
#pragma unroll
        for (int i = 0; i < 2; i++) {
            uint32_t v[4];
            v[0] = (qa[i] & 0x0F0F0F0Fu) | ((qh[i] << 4) & 0x30303030u);
            v[1] = (qb[i] & 0x0F0F0F0Fu) | ((qh[i] << 2) & 0x30303030u);
            v[2] = ((qa[i] >> 4) & 0x0F0F0F0Fu) | (qh[i] & 0x30303030u);
            v[3] = ((qb[i] >> 4) & 0x0F0F0F0Fu) | ((qh[i] >> 2) & 0x30303030u);
#pragma unroll
            for (int t = 0; t < 4; t++) {
                float f[4];
                bytes4<0>(v[t], MAGIC + 32.0f, f);
#pragma unroll
                for (int j = 0; j < 4; j++) {
                    w[(8 * t + 4 * i + j) % U] = f[j] * scale[t];
                }
            }
        }
    }
};

} // namespace mw
