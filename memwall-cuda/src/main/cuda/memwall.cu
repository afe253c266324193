// memwall's CUDA kernels, compiled by build-ptx.sh into one PTX module
// (src/main/resources/org/memwall/cuda/memwall.ptx), which the host loads through the driver.
//
// The interface (every kernel's name, arguments, what it computes and the launch geometry the host
// uses) is fixed by docs/gpu.md, section "Kernel interface"; PtxTest checks that the PTX's entries are
// exactly the kernels listed there. This file is the only translation unit: quant.cuh (the weight
// formats) is included here.
//
// Conventions: pointers are device addresses, sums are float32 in a fixed order that does not depend
// on n, on blockIdx.y or on the rest of the batch (batch invariance); compiled with -fmad=false, so
// every fused multiply-add is an explicit fmaf and every other expression rounds as it is written.
// No anonymous namespaces or static functions: nvcc names their symbols after a hash of the source
// path, and the PTX must not depend on where the repository is checked out.

#include "quant.cuh"

using namespace mw;

namespace mw {

constexpr int TOK = 8; // tokens per matmul block (blockIdx.y)

__device__ __forceinline__ float warp_sum(float v) {
#pragma unroll
    for (int m = 16; m >= 1; m >>= 1) {
        v += __shfl_xor_sync(0xFFFFFFFFu, v, m);
    }
    return v;
}

__device__ __forceinline__ float4 ldx4(const float* p) {
    return __ldg(reinterpret_cast<const float4*>(p));
}

/**
 * acc[t] += lane's share of Σ_i W[row][i] · x[t·k + i] for t < nt (NT = 1: exactly one token). The lane
 * takes units lane, lane + 32, ... in order; each token's sum is the same chain of fmaf whatever nt is.
 */
template <class F, bool V, int NT>
__device__ __forceinline__ void row_dot(const uint8_t* row, const float* __restrict__ x, int k, int nt,
                                        const float* lut, float (&acc)[TOK]) {
    constexpr int U = F::template unit<V>();
    const int units = k / U;
    for (int u = threadIdx.x; u < units; u += 32) {
        float w[U];
        F::template load<V, U>(row, u, w, lut);
        const float* xu = x + F::template base<V>(u);
#pragma unroll
        for (int t = 0; t < NT; t++) {
            if (NT == 1 || t < nt) {
                const float* xt = xu + (size_t)t * k;
                if (V) {
#pragma unroll
                    for (int e = 0; e < U; e += 4) {
                        float4 xv = ldx4(xt + F::off(e));
                        acc[t] = fmaf(w[e], xv.x, acc[t]);
                        acc[t] = fmaf(w[(e + 1) % U], xv.y, acc[t]);
                        acc[t] = fmaf(w[(e + 2) % U], xv.z, acc[t]);
                        acc[t] = fmaf(w[(e + 3) % U], xv.w, acc[t]);
                    }
                } else {
#pragma unroll
                    for (int e = 0; e < U; e++) {
                        acc[t] = fmaf(w[e], __ldg(xt + F::off(e)), acc[t]);
                    }
                }
            }
        }
    }
}

template <class F, bool V, int NT>
__device__ __forceinline__ void matmul_rows(const uint8_t* row, const float* x, float* y, int rows, int r, int k,
                                            int nt, const float* lut) {
    float acc[TOK];
#pragma unroll
    for (int t = 0; t < TOK; t++) {
        acc[t] = 0.0f;
    }
    row_dot<F, V, NT>(row, x, k, nt, lut, acc);
#pragma unroll
    for (int t = 0; t < NT; t++) {
        if (NT == 1 || t < nt) {
            float s = warp_sum(acc[t]);
            if (threadIdx.x == 0) {
                y[(size_t)t * rows + r] = s;
            }
        }
    }
}

template <class F>
struct NeedsLut {
    static constexpr bool value = false;
};
template <>
struct NeedsLut<FmtMXFP4> {
    static constexpr bool value = true;
};

/** MXFP4's codebook in shared memory (lanes index it by code); other formats pass null. */
template <class F>
__device__ __forceinline__ const float* block_lut() {
    if (NeedsLut<F>::value) {
        __shared__ float lut[16];
        constexpr float table[16] = MW_E2M1X2;
        int tid = threadIdx.y * blockDim.x + threadIdx.x;
        if (tid < 16) {
            lut[tid] = table[tid];
        }
        __syncthreads();
        return lut;
    }
    return nullptr;
}

/** Whether the 16-byte path applies: rows (and x) 16-byte aligned and k whole units of it. */
template <class F>
__device__ __forceinline__ bool vec_ok(const void* w, long long rowBytes, long long more, const float* x, int k) {
    return ((reinterpret_cast<uintptr_t>(w) | reinterpret_cast<uintptr_t>(x)) & 15) == 0 && (rowBytes & 15) == 0 &&
           (more & 15) == 0 && k % F::template unit<true>() == 0 && (k & 3) == 0;
}

template <class F>
__device__ __forceinline__ void matmul(const uint8_t* w, long long rowBytes, const float* x, float* y, int rows, int k,
                                       int n) {
    const float* lut = block_lut<F>();
    const int r = blockIdx.x * 4 + threadIdx.y;
    const int t0 = blockIdx.y * TOK;
    if (r >= rows || t0 >= n) {
        return;
    }
    const int nt = min(TOK, n - t0);
    const uint8_t* row = w + (size_t)r * rowBytes;
    const float* xt = x + (size_t)t0 * k;
    float* yt = y + (size_t)t0 * rows;
    if (vec_ok<F>(w, rowBytes, 0, x, k)) {
        if (nt == 1) {
            matmul_rows<F, true, 1>(row, xt, yt, rows, r, k, nt, lut);
        } else {
            matmul_rows<F, true, TOK>(row, xt, yt, rows, r, k, nt, lut);
        }
    } else {
        if (nt == 1) {
            matmul_rows<F, false, 1>(row, xt, yt, rows, r, k, nt, lut);
        } else {
            matmul_rows<F, false, TOK>(row, xt, yt, rows, r, k, nt, lut);
        }
    }
}

template <class F>
__device__ __forceinline__ void moe_matmul(const uint8_t* w, long long rowBytes, long long expertBytes,
                                           const float* x, const int* ids, float* y, int rows, int k, int pairs,
                                           int used, int xPerPair) {
    const float* lut = block_lut<F>();
    const int r = blockIdx.x * 4 + threadIdx.y;
    const int p = blockIdx.y;
    if (r >= rows || p >= pairs) {
        return;
    }
    const int e = __ldg(ids + p);
    const int xr = xPerPair ? p : p / used;
    const uint8_t* row = w + (size_t)e * expertBytes + (size_t)r * rowBytes;
    const float* xp = x + (size_t)xr * k;
    float* yp = y + (size_t)p * rows;
    if (vec_ok<F>(w, rowBytes, expertBytes, x, k)) {
        matmul_rows<F, true, 1>(row, xp, yp, rows, r, k, 1, lut);
    } else {
        matmul_rows<F, false, 1>(row, xp, yp, rows, r, k, 1, lut);
    }
}

/** out[t·k + i] = W[rows[t]][i] · scale, one block per t, threads over the generic units. */
template <class F>
__device__ __forceinline__ void dequant_rows(const uint8_t* w, long long rowBytes, const int* rows, float* out, int n,
                                             int k, float scale) {
    const float* lut = block_lut<F>();
    const int t = blockIdx.x;
    if (t >= n) {
        return;
    }
    constexpr int U = F::template unit<false>();
    const uint8_t* row = w + (size_t)__ldg(rows + t) * rowBytes;
    float* o = out + (size_t)t * k;
    const int units = k / U;
    for (int u = threadIdx.x; u < units; u += blockDim.x) {
        float v[U];
        F::template load<false, U>(row, u, v, lut);
        const int b = F::template base<false>(u);
#pragma unroll
        for (int e = 0; e < U; e++) {
            o[b + F::off(e)] = v[e] * scale;
        }
    }
}

} // namespace mw

// (128, 6): at most 80 registers, six blocks (24 warps) per SM; without the minimum ptxas picked 56
// registers for matmul_f16 on sm_90 and spilled.
#define MW_WEIGHT_KERNELS(NAME, FMT)                                                                          \
    extern "C" __global__ void __launch_bounds__(128, 6) matmul_##NAME(                                        \
        const uint8_t* __restrict__ w, long long rowBytes, const float* __restrict__ x, float* __restrict__ y, \
        int rows, int k, int n) {                                                                           \
        matmul<FMT>(w, rowBytes, x, y, rows, k, n);                                                         \
    }                                                                                                       \
    extern "C" __global__ void __launch_bounds__(128, 6) moe_matmul_##NAME(                                    \
        const uint8_t* __restrict__ w, long long rowBytes, long long expertBytes, const float* __restrict__ x, \
        const int* __restrict__ ids, float* __restrict__ y, int rows, int k, int pairs, int used,          \
        int xPerPair) {                                                                                     \
        moe_matmul<FMT>(w, rowBytes, expertBytes, x, ids, y, rows, k, pairs, used, xPerPair);              \
    }                                                                                                       \
    extern "C" __global__ void __launch_bounds__(256) dequant_rows_##NAME(                                  \
        const uint8_t* __restrict__ w, long long rowBytes, const int* __restrict__ rows,                   \
        float* __restrict__ out, int n, int k, float scale) {                                              \
        dequant_rows<FMT>(w, rowBytes, rows, out, n, k, scale);                                             \
    }

MW_WEIGHT_KERNELS(f32, FmtF32)
MW_WEIGHT_KERNELS(f16, FmtHalf<false>)
MW_WEIGHT_KERNELS(bf16, FmtHalf<true>)
MW_WEIGHT_KERNELS(q8_0, FmtQ8_0)
MW_WEIGHT_KERNELS(q4_0, FmtQ4_0)
MW_WEIGHT_KERNELS(q4_k, FmtQK45<false>)
MW_WEIGHT_KERNELS(q5_k, FmtQK45<true>)
MW_WEIGHT_KERNELS(q6_k, FmtQ6_K)
MW_WEIGHT_KERNELS(mxfp4, FmtMXFP4)

// ---- element-wise and row kernels -----------------------------------------------------------------

namespace mw {

/** Sum over a block of BLOCK threads in a fixed tree (warps, then warp sums in order). */
template <int BLOCK, typename T>
__device__ __forceinline__ T block_sum(T v) {
    __shared__ T part[BLOCK / 32];
#pragma unroll
    for (int m = 16; m >= 1; m >>= 1) {
        v += __shfl_xor_sync(0xFFFFFFFFu, v, m);
    }
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    if (lane == 0) {
        part[warp] = v;
    }
    __syncthreads();
    T s = part[0];
#pragma unroll
    for (int i = 1; i < BLOCK / 32; i++) {
        s += part[i];
    }
    return s;
}

__device__ __forceinline__ long long gid() {
    return (long long)blockIdx.x * blockDim.x + threadIdx.x;
}

} // namespace mw

/** RMSNorm as memwall-core Norms.rmsNorm: Σx² in double, scale = 1 / (float) sqrt(mean + eps), x·scale·w. */
extern "C" __global__ void __launch_bounds__(256) rms_norm(const float* x, const float* __restrict__ w, float* out,
                                                           int rows, int d, float eps) {
    const int r = blockIdx.x;
    if (r >= rows) {
        return;
    }
    const float* xr = x + (size_t)r * d;
    float* o = out + (size_t)r * d;
    double s = 0.0;
    for (int i = threadIdx.x; i < d; i += 256) {
        float v = xr[i];
        s += (double)(v * v);
    }
    s = block_sum<256>(s);
    float mean = (float)(s / d);
    float scale = 1.0f / (float)sqrt((double)(mean + eps));
    for (int i = threadIdx.x; i < d; i += 256) {
        o[i] = xr[i] * scale * w[i];
    }
}

extern "C" __global__ void __launch_bounds__(256) add_bias(float* y, const float* __restrict__ b, int n, int m) {
    long long i = gid();
    if (i < (long long)n * m) {
        y[i] += b[i % m];
    }
}

extern "C" __global__ void __launch_bounds__(256) add_scaled(float* x, const float* __restrict__ y, long long count,
                                                             float s) {
    long long i = gid();
    if (i < count) {
        x[i] += s * y[i];
    }
}

extern "C" __global__ void __launch_bounds__(256) scale(float* x, long long count, float s) {
    long long i = gid();
    if (i < count) {
        x[i] *= s;
    }
}

// swiglu and moe_glu take exp in double and round it to float, as the Java reference does.
extern "C" __global__ void __launch_bounds__(256) swiglu(float* g, const float* __restrict__ u, long long count) {
    long long i = gid();
    if (i < count) {
        float v = g[i];
        g[i] = v / (1.0f + (float)exp((double)-v)) * u[i];
    }
}

/**
 * RoPE. The (cos, sin) of each pair are computed once per token in double and kept in shared memory
 * (ropeDim ≤ 512), then every head's pairs are rotated.
 */
extern "C" __global__ void __launch_bounds__(256) rope(float* v, const int* __restrict__ pos, int n, int heads,
                                                       int headDim, int ropeDim, int neox,
                                                       const double* __restrict__ invFreq,
                                                       const double* __restrict__ ramp, double scale,
                                                       float magnitude) {
    __shared__ float cs[256], sn[256];
    const int t = blockIdx.x;
    if (t >= n) {
        return;
    }
    const int half = ropeDim / 2;
    const double p = (double)pos[t];
    for (int i = threadIdx.x; i < half; i += 256) {
        double theta = __dmul_rn(p, invFreq[i]);
        double r = ramp[i];
        double angle = __dadd_rn(__dmul_rn(__dmul_rn(scale, theta), __dadd_rn(1.0, -r)), __dmul_rn(theta, r));
        double s, c;
        sincos(angle, &s, &c);
        cs[i] = (float)c * magnitude;
        sn[i] = (float)s * magnitude;
    }
    __syncthreads();
    float* row = v + (size_t)t * heads * headDim;
    for (int j = threadIdx.x; j < heads * half; j += 256) {
        const int h = j / half, i = j - h * half;
        const int a = neox ? i : 2 * i;
        const int b = neox ? i + half : 2 * i + 1;
        float* hv = row + (size_t)h * headDim;
        const float x0 = hv[a], x1 = hv[b];
        const float c = cs[i], s = sn[i];
        hv[a] = x0 * c - x1 * s;
        hv[b] = x0 * s + x1 * c;
    }
}

namespace mw {

template <typename KV>
__device__ __forceinline__ float kv_load(const KV* p);
template <>
__device__ __forceinline__ float kv_load<float>(const float* p) {
    return __ldg(p);
}
template <>
__device__ __forceinline__ float kv_load<__half>(const __half* p) {
    return __half2float(__ldg(p));
}

template <typename KV>
__device__ __forceinline__ KV kv_from(float f);
template <>
__device__ __forceinline__ float kv_from<float>(float f) {
    return f;
}
template <>
__device__ __forceinline__ __half kv_from<__half>(float f) {
    return __float2half_rn(f);
}

template <typename KV>
__device__ __forceinline__ void kv_store(const float* k, const float* v, const unsigned long long* kbase,
                                         const unsigned long long* vbase, const int* pos, int n, int layer,
                                         int layers, int kd, int vd) {
    const int t = blockIdx.x;
    if (t >= n) {
        return;
    }
    const long long slot = (long long)pos[t] * layers + layer;
    KV* kd_ = reinterpret_cast<KV*>(kbase[t]) + slot * kd;
    KV* vd_ = reinterpret_cast<KV*>(vbase[t]) + slot * vd;
    const float* ks = k + (size_t)t * kd;
    const float* vs = v + (size_t)t * vd;
    for (int i = threadIdx.x; i < kd; i += blockDim.x) {
        kd_[i] = kv_from<KV>(ks[i]);
    }
    for (int i = threadIdx.x; i < vd; i += blockDim.x) {
        vd_[i] = kv_from<KV>(vs[i]);
    }
}

constexpr int ATT_WARPS = 4;
constexpr int ATT_P = 8; // positions per warp step

/**
 * Attention for one (head, token): warp w takes the steps of ATT_P consecutive positions
 * first + ATT_P·(w + 4s); lanes hold head elements lane + 32i (i < NK for keys, < NV for values). Each
 * warp keeps an online softmax (running max m, sum l, acc), combined across the warps in order at the
 * end with the sink.
 */
template <typename KV, int NK, int NV>
__device__ __forceinline__ void attend(const float* q, float* out, const unsigned long long* kbase,
                                       const unsigned long long* vbase, const int* pos, int layer, int layers,
                                       int heads, int kvHeads, int headDim, int valueDim, float scale,
                                       int window, const float* sinks, float* sm_m, float* sm_l,
                                       float (*sm_acc)[256]) {
    const int h = blockIdx.x, t = blockIdx.y;
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    const int g = h / (heads / kvHeads);
    const int p = pos[t];
    const int first = window > 0 ? max(0, p - window + 1) : 0;
    const KV* K = reinterpret_cast<const KV*>(kbase[t]) + ((long long)layer * kvHeads + g) * headDim;
    const KV* V = reinterpret_cast<const KV*>(vbase[t]) + ((long long)layer * kvHeads + g) * valueDim;
    const long long kStride = (long long)layers * kvHeads * headDim;
    const long long vStride = (long long)layers * kvHeads * valueDim;

    float qv[NK];
    const float* qt = q + ((size_t)t * heads + h) * headDim;
#pragma unroll
    for (int i = 0; i < NK; i++) {
        qv[i] = lane + 32 * i < headDim ? qt[lane + 32 * i] : 0.0f;
    }
    float m = -INFINITY, l = 0.0f;
    float acc[NV];
#pragma unroll
    for (int i = 0; i < NV; i++) {
        acc[i] = 0.0f;
    }
    for (int j0 = first + ATT_P * warp; j0 <= p; j0 += ATT_P * ATT_WARPS) {
        float s[ATT_P];
#pragma unroll
        for (int jj = 0; jj < ATT_P; jj++) {
            const int j = j0 + jj;
            float d = 0.0f;
            if (j <= p) {
                const KV* kj = K + j * kStride;
#pragma unroll
                for (int i = 0; i < NK; i++) {
                    if (lane + 32 * i < headDim) {
                        d = fmaf(qv[i], kv_load(kj + lane + 32 * i), d);
                    }
                }
            }
            s[jj] = d;
        }
        float cmax = -INFINITY;
#pragma unroll
        for (int jj = 0; jj < ATT_P; jj++) {
            s[jj] = scale * warp_sum(s[jj]);
            if (j0 + jj <= p) {
                cmax = fmaxf(cmax, s[jj]);
            }
        }
        const float mNew = fmaxf(m, cmax);
        const float corr = expf(m - mNew);
        l = l * corr;
#pragma unroll
        for (int i = 0; i < NV; i++) {
            acc[i] = acc[i] * corr;
        }
#pragma unroll
        for (int jj = 0; jj < ATT_P; jj++) {
            const int j = j0 + jj;
            if (j <= p) {
                const float pj = expf(s[jj] - mNew);
                l = l + pj;
                const KV* vj = V + j * vStride;
#pragma unroll
                for (int i = 0; i < NV; i++) {
                    if (lane + 32 * i < valueDim) {
                        acc[i] = fmaf(pj, kv_load(vj + lane + 32 * i), acc[i]);
                    }
                }
            }
        }
        m = mNew;
    }
    if (lane == 0) {
        sm_m[warp] = m;
        sm_l[warp] = l;
    }
#pragma unroll
    for (int i = 0; i < NV; i++) {
        if (lane + 32 * i < valueDim) {
            sm_acc[warp][lane + 32 * i] = acc[i];
        }
    }
    __syncthreads();
    float mAll = sm_m[0];
#pragma unroll
    for (int w = 1; w < ATT_WARPS; w++) {
        mAll = fmaxf(mAll, sm_m[w]);
    }
    const bool sink = sinks != nullptr;
    const float sinkLogit = sink ? sinks[h] : -INFINITY;
    if (sink) {
        mAll = fmaxf(mAll, sinkLogit);
    }
    float f[ATT_WARPS];
    float lAll = 0.0f;
#pragma unroll
    for (int w = 0; w < ATT_WARPS; w++) {
        f[w] = sm_m[w] == -INFINITY ? 0.0f : expf(sm_m[w] - mAll);
        lAll = lAll + sm_l[w] * f[w];
    }
    if (sink) {
        lAll = lAll + expf(sinkLogit - mAll);
    }
    float* o = out + ((size_t)t * heads + h) * valueDim;
    for (int i = threadIdx.x; i < valueDim; i += blockDim.x) {
        float a = 0.0f;
#pragma unroll
        for (int w = 0; w < ATT_WARPS; w++) {
            a = fmaf(sm_acc[w][i], f[w], a);
        }
        o[i] = a / lAll;
    }
}

template <typename KV>
__device__ __forceinline__ void attention(const float* q, float* out, const unsigned long long* kbase,
                                          const unsigned long long* vbase, const int* pos, int n, int layer,
                                          int layers, int heads, int kvHeads, int headDim, int valueDim, float scale,
                                          int window, const float* sinks) {
    if (blockIdx.y >= n || blockIdx.x >= heads) {
        return;
    }
    // One set of shared arrays for all the instantiations below.
    __shared__ float sm_m[ATT_WARPS], sm_l[ATT_WARPS];
    __shared__ float sm_acc[ATT_WARPS][256];
    // Lanes hold up to 1, 2, 4 or 8 elements of a row; keys and values of different widths share the
    // widest form (each instantiation costs the driver's JIT seconds, so only these four per KV type).
    const int nk = (headDim + 31) / 32, nv = (valueDim + 31) / 32;
    const int rk = nk <= 1 ? 1 : nk <= 2 ? 2 : nk <= 4 ? 4 : 8;
    const int rv = nv <= 1 ? 1 : nv <= 2 ? 2 : nv <= 4 ? 4 : 8;
#define MW_ATT(N) \
    attend<KV, N, N>(q, out, kbase, vbase, pos, layer, layers, heads, kvHeads, headDim, valueDim, scale, window, sinks, \
                     sm_m, sm_l, sm_acc)
    if (rk == rv && rk == 1) {
        MW_ATT(1);
    } else if (rk == rv && rk == 2) {
        MW_ATT(2);
    } else if (rk == rv && rk == 4) {
        MW_ATT(4);
    } else {
        MW_ATT(8);
    }
#undef MW_ATT
}

} // namespace mw

#define MW_KV_KERNELS(NAME, KV)                                                                               \
    extern "C" __global__ void __launch_bounds__(256) kv_store_##NAME(                                      \
        const float* __restrict__ k, const float* __restrict__ v, const unsigned long long* __restrict__ kbase, \
        const unsigned long long* __restrict__ vbase, const int* __restrict__ pos, int n, int layer,       \
        int layers, int kd, int vd) {                                                                       \
        kv_store<KV>(k, v, kbase, vbase, pos, n, layer, layers, kd, vd);                                    \
    }                                                                                                       \
    extern "C" __global__ void __launch_bounds__(128, 4) attention_##NAME(                                     \
        const float* __restrict__ q, float* __restrict__ out, const unsigned long long* __restrict__ kbase, \
        const unsigned long long* __restrict__ vbase, const int* __restrict__ pos, int n, int layer,       \
        int layers, int heads, int kvHeads, int headDim, int valueDim, float scale, int window,            \
        const float* __restrict__ sinks) {                                                                  \
        attention<KV>(q, out, kbase, vbase, pos, n, layer, layers, heads, kvHeads, headDim, valueDim, scale, \
                      window, sinks);                                                                       \
    }

MW_KV_KERNELS(f32, float)
MW_KV_KERNELS(f16, __half)

/**
 * Top-`used` experts per token, one warp per token, weights as the Java reference computes them
 * ((float) exp in double, summed in double): round s picks the largest l_e among those below
 * the previous pick in the order (larger value first, then lower index), so no flags are needed.
 */
extern "C" __global__ void __launch_bounds__(32) moe_route(const float* __restrict__ logits,
                                                           const float* __restrict__ bias, int n, int ne, int used,
                                                           int* __restrict__ ids, float* __restrict__ weights) {
    const int t = blockIdx.x;
    if (t >= n) {
        return;
    }
    const int lane = threadIdx.x;
    const float* lt = logits + (size_t)t * ne;
    float lastV = INFINITY;
    int lastE = -1;
    float first = 0.0f;
    double sum = 0.0;
    for (int s = 0; s < used; s++) {
        float bv = -INFINITY;
        int be = 0x7FFFFFFF;
        for (int e = lane; e < ne; e += 32) {
            const float v = lt[e] + (bias != nullptr ? bias[e] : 0.0f);
            const bool below = v < lastV || (v == lastV && e > lastE);
            if (below && (be == 0x7FFFFFFF || v > bv)) {
                bv = v;
                be = e;
            }
        }
#pragma unroll
        for (int m = 16; m >= 1; m >>= 1) {
            const float ov = __shfl_xor_sync(0xFFFFFFFFu, bv, m);
            const int oe = __shfl_xor_sync(0xFFFFFFFFu, be, m);
            if (oe != 0x7FFFFFFF && (be == 0x7FFFFFFF || ov > bv || (ov == bv && oe < be))) {
                bv = ov;
                be = oe;
            }
        }
        lastV = bv;
        lastE = be;
        if (s == 0) {
            first = bv;
        }
        const float ex = (float)exp((double)(bv - first));
        sum = sum + (double)ex;
        if (lane == 0) {
            ids[(size_t)t * used + s] = be;
            weights[(size_t)t * used + s] = ex;
        }
    }
    __syncwarp();
    for (int s = lane; s < used; s += 32) {
        float* wp = weights + (size_t)t * used + s;
        *wp = *wp / (float)sum;
    }
}

extern "C" __global__ void __launch_bounds__(256) moe_glu(float* g, const float* __restrict__ u,
                                                          const float* __restrict__ gb, const float* __restrict__ ub,
                                                          const int* __restrict__ ids, int pairs, int ff) {
    const long long i = gid();
    if (i >= (long long)pairs * ff) {
        return;
    }
    const int p = (int)(i / ff), j = (int)(i - (long long)p * ff);
    const long long e = ids[p];
    // A null bias adds 0 (as the Java reference does: −0 becomes +0).
    float a = g[i] + (gb != nullptr ? gb[e * ff + j] : 0.0f);
    float b = u[i] + (ub != nullptr ? ub[e * ff + j] : 0.0f);
    a = fminf(a, 7.0f);
    b = fminf(fmaxf(b, -7.0f), 7.0f);
    g[i] = a / (1.0f + (float)exp((double)(-1.702f * a))) * (b + 1.0f);
}

extern "C" __global__ void __launch_bounds__(256) moe_combine(const float* __restrict__ down,
                                                              const float* __restrict__ db, const int* __restrict__ ids,
                                                              const float* __restrict__ weights, float* __restrict__ out,
                                                              int n, int d, int used) {
    const long long i = gid();
    if (i >= (long long)n * d) {
        return;
    }
    const int t = (int)(i / d), j = (int)(i - (long long)t * d);
    float acc = 0.0f;
    for (int s = 0; s < used; s++) {
        const long long ts = (long long)t * used + s;
        const float v = down[ts * d + j] + (db != nullptr ? db[(long long)ids[ts] * d + j] : 0.0f);
        acc = acc + weights[ts] * v;
    }
    out[i] = acc;
}

extern "C" __global__ void __launch_bounds__(256) gather_rows(const float* __restrict__ x, const int* __restrict__ rows,
                                                              float* __restrict__ out, int n, int d) {
    const int t = blockIdx.x;
    if (t >= n) {
        return;
    }
    const float* src = x + (size_t)rows[t] * d;
    float* dst = out + (size_t)t * d;
    for (int i = threadIdx.x; i < d; i += blockDim.x) {
        dst[i] = src[i];
    }
}

/** Index of the largest value per token (ties: the lower index), one block of 1024 per token. */
extern "C" __global__ void __launch_bounds__(1024) argmax(const float* __restrict__ x, int m, int n,
                                                          int* __restrict__ out) {
    __shared__ float bvs[32];
    __shared__ int bes[32];
    const int t = blockIdx.x;
    if (t >= n) {
        return;
    }
    const float* xt = x + (size_t)t * m;
    float bv = -INFINITY;
    int be = 0x7FFFFFFF;
    for (int i = threadIdx.x; i < m; i += blockDim.x) {
        const float v = xt[i];
        if (be == 0x7FFFFFFF || v > bv) {
            bv = v;
            be = i;
        }
    }
#pragma unroll
    for (int s = 16; s >= 1; s >>= 1) {
        const float ov = __shfl_xor_sync(0xFFFFFFFFu, bv, s);
        const int oe = __shfl_xor_sync(0xFFFFFFFFu, be, s);
        if (oe != 0x7FFFFFFF && (be == 0x7FFFFFFF || ov > bv || (ov == bv && oe < be))) {
            bv = ov;
            be = oe;
        }
    }
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    if (lane == 0) {
        bvs[warp] = bv;
        bes[warp] = be;
    }
    __syncthreads();
    if (threadIdx.x == 0) {
        const int warps = (blockDim.x + 31) / 32;
        for (int w = 1; w < warps; w++) {
            if (bes[w] != 0x7FFFFFFF && (bes[0] == 0x7FFFFFFF || bvs[w] > bvs[0] || (bvs[w] == bvs[0] && bes[w] < bes[0]))) {
                bvs[0] = bvs[w];
                bes[0] = bes[w];
            }
        }
        out[t] = bes[0] == 0x7FFFFFFF ? 0 : bes[0];
    }
}
