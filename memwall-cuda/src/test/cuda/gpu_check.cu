// On-GPU check and bandwidth probe of the kernels: memwall.cu compiled into this program (runtime API,
// <<<>>> launches with docs/gpu.md's geometry), every kernel compared with a host reference, the
// matmuls also for batch invariance (token t of an n-token launch == the same token alone, bit for
// bit), then matmul_T's weight streaming rate for n = 1 and 8. Needs a GPU; not part of Maven.
//
//   cd memwall-cuda/src/test/cuda && ./run-gpu-check.sh        (builds for sm_90; ARCH=sm_80 for A100)
#include "../../main/cuda/memwall.cu"
#include "reference.h"
#include <stdio.h>
#include <stdlib.h>
#include <vector>
#include <algorithm>

#define CK(x) do { cudaError_t e_ = (x); if (e_ != cudaSuccess) { printf("CUDA error %s at %s:%d\n", cudaGetErrorString(e_), __FILE__, __LINE__); exit(2); } } while (0)

static int failures = 0;
static void fail(const char* what) { failures++; printf("FAIL %s\n", what); }

static uint64_t seed = 12345;
static float unif() { seed ^= seed << 13; seed ^= seed >> 7; seed ^= seed << 17; return (float)((seed >> 11) * (1.0 / 9007199254740992.0)) * 2 - 1; }

template <typename T> static T* dev(const std::vector<T>& h) { T* d; CK(cudaMalloc(&d, std::max<size_t>(1, h.size() * sizeof(T)))); CK(cudaMemcpy(d, h.data(), h.size() * sizeof(T), cudaMemcpyHostToDevice)); return d; }
template <typename T> static std::vector<T> host(const T* d, size_t n) { std::vector<T> h(n); CK(cudaMemcpy(h.data(), d, n * sizeof(T), cudaMemcpyDeviceToHost)); return h; }

typedef void (*MatmulK)(const uint8_t*, long long, const float*, float*, int, int, int);
typedef void (*MoeK)(const uint8_t*, long long, long long, const float*, const int*, float*, int, int, int, int, int);
typedef void (*DeqK)(const uint8_t*, long long, const int*, float*, int, int, float);
static MatmulK MATMUL[] = {matmul_f32, matmul_f16, matmul_bf16, matmul_q8_0, matmul_q4_0, matmul_q4_k, matmul_q5_k, matmul_q6_k, matmul_mxfp4};
static MoeK MOE[] = {moe_matmul_f32, moe_matmul_f16, moe_matmul_bf16, moe_matmul_q8_0, moe_matmul_q4_0, moe_matmul_q4_k, moe_matmul_q5_k, moe_matmul_q6_k, moe_matmul_mxfp4};
static DeqK DEQ[] = {dequant_rows_f32, dequant_rows_f16, dequant_rows_bf16, dequant_rows_q8_0, dequant_rows_q4_0, dequant_rows_q4_k, dequant_rows_q5_k, dequant_rows_q6_k, dequant_rows_mxfp4};

static void run_matmul(int f, const uint8_t* w, long long rb, const float* x, float* y, int rows, int k, int n) {
    dim3 grid((rows + 3) / 4, (n + 7) / 8), block(32, 4);
    MATMUL[f]<<<grid, block>>>(w, rb, x, y, rows, k, n);
    CK(cudaGetLastError());
}

static void check_weights(int f, int k, int rows, int offset) {
    long long rb = ref::row_bytes(f, k);
    std::vector<uint8_t> W(rb * rows + offset);
    std::vector<float> Wf((size_t)rows * k);
    for (int r = 0; r < rows; r++) {
        ref::random_row(f, k, W.data() + offset + rb * r, seed);
        ref::dequant(f, W.data() + offset + rb * r, k, Wf.data() + (size_t)r * k);
    }
    const int N = 13;
    std::vector<float> X((size_t)N * k);
    for (auto& v : X) v = unif();
    uint8_t* dW = dev(W);
    float* dX = dev(X);
    float* dY; CK(cudaMalloc(&dY, sizeof(float) * N * rows));
    run_matmul(f, dW + offset, rb, dX, dY, rows, k, N);
    auto Y = host(dY, (size_t)N * rows);
    double maxErr = 0;
    for (int t = 0; t < N; t++) for (int r = 0; r < rows; r++) {
        double s = 0, a = 0;
        for (int i = 0; i < k; i++) { s += (double)Wf[(size_t)r * k + i] * X[(size_t)t * k + i]; a += fabs((double)Wf[(size_t)r * k + i] * X[(size_t)t * k + i]); }
        maxErr = std::max(maxErr, fabs(Y[(size_t)t * rows + r] - s) / (a + 1e-30));
    }
    char msg[200];
    snprintf(msg, sizeof msg, "matmul_%s k=%d offset=%d: error %.3g of Σ|w·x|", ref::NAMES[f], k, offset, maxErr);
    if (maxErr > 1e-5) fail(msg); else printf("ok   %s\n", msg);
    // Batch invariance: each token alone (n = 1) and in launches of 3 and 8 gives the same bits.
    bool same = true;
    for (int t = 0; t < N && same; t++) {
        for (int n : {1, 3, 8}) {
            if (t + n > N) continue;
            run_matmul(f, dW + offset, rb, dX + (size_t)t * k, dY, rows, k, n);
            auto Y1 = host(dY, rows);
            if (memcmp(Y1.data(), Y.data() + (size_t)t * rows, 4 * rows) != 0) { same = false; break; }
        }
    }
    snprintf(msg, sizeof msg, "matmul_%s batch invariance (offset %d)", ref::NAMES[f], offset);
    if (!same) fail(msg); else printf("ok   %s\n", msg);
    // dequant_rows: bit for bit the reference times the scale.
    std::vector<int> ids = {rows - 1, 0, 5};
    int* dIds = dev(ids);
    float* dO; CK(cudaMalloc(&dO, sizeof(float) * 3 * k));
    DEQ[f]<<<3, 256>>>(dW + offset, rb, dIds, dO, 3, k, 0.75f);
    CK(cudaGetLastError());
    auto O = host(dO, (size_t)3 * k);
    bool eq = true;
    for (int t = 0; t < 3; t++) for (int i = 0; i < k; i++) { float e = Wf[(size_t)ids[t] * k + i] * 0.75f; eq &= memcmp(&e, &O[(size_t)t * k + i], 4) == 0; }
    snprintf(msg, sizeof msg, "dequant_rows_%s (offset %d) bit for bit", ref::NAMES[f], offset);
    if (!eq) fail(msg); else printf("ok   %s\n", msg);
    // moe_matmul: experts are consecutive slices of rows/4 rows each; pair results equal matmul's bits.
    if (offset == 0) {
        int er = rows / 4 / 4 * 4, used = 2, pairs = 6;
        long long eb = rb * er;
        std::vector<int> eids = {3, 1, 0, 2, 1, 3};
        int* dE = dev(eids);
        for (int xPerPair = 0; xPerPair < 2; xPerPair++) {
            MOE[f]<<<dim3((er + 3) / 4, pairs), dim3(32, 4)>>>(dW, rb, eb, dX, dE, dY, er, k, pairs, used, xPerPair);
            CK(cudaGetLastError());
            auto M = host(dY, (size_t)pairs * er);
            bool ok = true;
            for (int p = 0; p < pairs; p++) {
                int xr = xPerPair ? p : p / used;
                run_matmul(f, dW + eids[p] * eb, rb, dX + (size_t)xr * k, dO, er, k, 1);
                auto R = host(dO, er);
                ok &= memcmp(R.data(), M.data() + (size_t)p * er, 4 * er) == 0;
            }
            snprintf(msg, sizeof msg, "moe_matmul_%s xPerPair=%d equals matmul bit for bit", ref::NAMES[f], xPerPair);
            if (!ok) fail(msg); else printf("ok   %s\n", msg);
        }
        cudaFree(dE);
    }
    cudaFree(dW); cudaFree(dX); cudaFree(dY); cudaFree(dIds); cudaFree(dO);
}

// ---- attention ----
static void check_attention(bool f16, int heads, int kvHeads, int headDim, int valueDim, int window, bool sinks, std::vector<int> pos, int layers = 2, int layer = 1) {
    int n = (int)pos.size();
    int maxPos = *std::max_element(pos.begin(), pos.end()) + 1;
    size_t kElems = (size_t)maxPos * layers * kvHeads * headDim, vElems = (size_t)maxPos * layers * kvHeads * valueDim;
    std::vector<float> Kf(kElems), Vf(vElems), Q((size_t)n * heads * headDim), S(heads);
    for (auto& v : Kf) v = unif();
    for (auto& v : Vf) v = unif();
    for (auto& v : Q) v = unif() * 2;
    for (auto& v : S) v = unif() * 3;
    void *dK, *dV;
    size_t es = f16 ? 2 : 4;
    CK(cudaMalloc(&dK, kElems * es)); CK(cudaMalloc(&dV, vElems * es));
    if (f16) {
        std::vector<__half> Kh(kElems), Vh(vElems);
        for (size_t i = 0; i < kElems; i++) { Kh[i] = __float2half(Kf[i]); Kf[i] = __half2float(Kh[i]); }
        for (size_t i = 0; i < vElems; i++) { Vh[i] = __float2half(Vf[i]); Vf[i] = __half2float(Vh[i]); }
        CK(cudaMemcpy(dK, Kh.data(), kElems * 2, cudaMemcpyHostToDevice)); CK(cudaMemcpy(dV, Vh.data(), vElems * 2, cudaMemcpyHostToDevice));
    } else {
        CK(cudaMemcpy(dK, Kf.data(), kElems * 4, cudaMemcpyHostToDevice)); CK(cudaMemcpy(dV, Vf.data(), vElems * 4, cudaMemcpyHostToDevice));
    }
    std::vector<unsigned long long> kb(n, (unsigned long long)dK), vb(n, (unsigned long long)dV);
    auto dkb = dev(kb); auto dvb = dev(vb); auto dpos = dev(pos); auto dQ = dev(Q); auto dS = dev(S);
    float* dO; CK(cudaMalloc(&dO, sizeof(float) * n * heads * valueDim));
    float scale = 1.0f / sqrtf((float)headDim);
    auto kern = f16 ? attention_f16 : attention_f32;
    cudaEvent_t e0, e1; cudaEventCreate(&e0); cudaEventCreate(&e1);
    cudaEventRecord(e0);
    kern<<<dim3(heads, n), 128>>>(dQ, dO, dkb, dvb, dpos, n, layer, layers, heads, kvHeads, headDim, valueDim, scale, window, sinks ? dS : nullptr);
    cudaEventRecord(e1);
    CK(cudaGetLastError()); CK(cudaDeviceSynchronize());
    float ms; cudaEventElapsedTime(&ms, e0, e1);
    auto O = host(dO, (size_t)n * heads * valueDim);
    double maxErr = 0;
    for (int t = 0; t < n; t++) for (int h = 0; h < heads; h++) {
        int g = h / (heads / kvHeads), p = pos[t], first = window > 0 ? std::max(0, p - window + 1) : 0;
        std::vector<double> s(p + 1);
        double mx = sinks ? S[h] : -1e300;
        for (int j = first; j <= p; j++) {
            double d = 0;
            for (int i = 0; i < headDim; i++) d += (double)Q[((size_t)t * heads + h) * headDim + i] * Kf[(((size_t)j * layers + layer) * kvHeads + g) * headDim + i];
            s[j] = d * scale; mx = std::max(mx, s[j]);
        }
        double den = sinks ? exp(S[h] - mx) : 0;
        for (int j = first; j <= p; j++) den += exp(s[j] - mx);
        for (int i = 0; i < valueDim; i++) {
            double o = 0;
            for (int j = first; j <= p; j++) o += exp(s[j] - mx) * Vf[(((size_t)j * layers + layer) * kvHeads + g) * valueDim + i];
            maxErr = std::max(maxErr, fabs(o / den - O[((size_t)t * heads + h) * valueDim + i]));
        }
    }
    char msg[200];
    snprintf(msg, sizeof msg, "attention_%s heads=%d/%d dims=%d/%d window=%d sinks=%d maxPos=%d: max error %.3g (%.3f ms)", f16 ? "f16" : "f32", heads, kvHeads, headDim, valueDim, window, sinks, maxPos - 1, maxErr, ms);
    if (maxErr > 2e-5) fail(msg); else printf("ok   %s\n", msg);
    cudaFree(dK); cudaFree(dV); cudaFree(dkb); cudaFree(dvb); cudaFree(dpos); cudaFree(dQ); cudaFree(dS); cudaFree(dO);
}

static void check_misc() {
    char msg[200];
    // rms_norm in place
    { int rows = 3, d = 1000; std::vector<float> x(rows * d), w(d); for (auto& v : x) v = unif(); for (auto& v : w) v = unif();
      auto dx = dev(x); auto dw = dev(w); rms_norm<<<rows, 256>>>(dx, dw, dx, rows, d, 1e-5f); auto o = host(dx, x.size());
      int bad = 0; for (int r = 0; r < rows; r++) { double s = 0; for (int i = 0; i < d; i++) { float v = x[r*d+i]; s += v * v; } float mean = (float)(s / d); float sc = 1.0f / (float)sqrt((double)(mean + 1e-5f));
        for (int i = 0; i < d; i++) { float e = x[r*d+i] * sc * w[i]; bad += memcmp(&e, &o[r*d+i], 4) != 0; } }
      snprintf(msg, sizeof msg, "rms_norm (as Norms.rmsNorm): %d differing elements", bad); if (bad) fail(msg); else printf("ok   %s\n", msg); }
    // rope, both layouts
    for (int neox = 0; neox < 2; neox++) { int n = 2, heads = 3, hd = 64, rd = 32; std::vector<float> v(n * heads * hd); for (auto& a : v) a = unif();
      std::vector<int> pos = {7, 70000}; std::vector<double> inv(rd / 2), ramp(rd / 2); for (int i = 0; i < rd / 2; i++) { inv[i] = pow(10000.0, -2.0 * i / rd); ramp[i] = i < 4 ? 0 : (i > 10 ? 1 : (i - 4) / 6.0); }
      auto dv = dev(v); auto dp = dev(pos); auto di = dev(inv); auto dr = dev(ramp);
      rope<<<n, 256>>>(dv, dp, n, heads, hd, rd, neox, di, dr, 0.25, 1.1f); auto o = host(dv, v.size()); double err = 0;
      for (int t = 0; t < n; t++) for (int h = 0; h < heads; h++) for (int i = 0; i < rd / 2; i++) { double th = pos[t] * inv[i]; double ang = 0.25 * th * (1 - ramp[i]) + th * ramp[i];
        float c = (float)cos(ang) * 1.1f, s = (float)sin(ang) * 1.1f; int a = neox ? i : 2 * i, b = neox ? i + rd / 2 : 2 * i + 1; float* hv = &v[(t * heads + h) * hd];
        float e0 = hv[a] * c - hv[b] * s, e1 = hv[a] * s + hv[b] * c; err = std::max(err, (double)std::max(fabsf(e0 - o[(t*heads+h)*hd+a]), fabsf(e1 - o[(t*heads+h)*hd+b]))); }
      for (int t = 0; t < n; t++) for (int h = 0; h < heads; h++) for (int i = rd; i < hd; i++) err = std::max(err, (double)fabsf(v[(t*heads+h)*hd+i] - o[(t*heads+h)*hd+i]));
      snprintf(msg, sizeof msg, "rope neox=%d max error %.3g", neox, err); if (err > 1e-6) fail(msg); else printf("ok   %s\n", msg); }
    // moe_route with ties and bias
    { int n = 2, ne = 40, used = 5; std::vector<float> l(n * ne), b(ne); for (auto& a : l) a = (float)(int)(unif() * 4); for (auto& a : b) a = (float)(int)(unif() * 2);
      auto dl = dev(l); auto db = dev(b); int* di; float* dw; CK(cudaMalloc(&di, 4 * n * used)); CK(cudaMalloc(&dw, 4 * n * used));
      moe_route<<<n, 32>>>(dl, db, n, ne, used, di, dw); auto ids = host(di, n * used); auto ws = host(dw, n * used); int bad = 0;
      for (int t = 0; t < n; t++) { std::vector<int> idx(ne); for (int e = 0; e < ne; e++) idx[e] = e; std::stable_sort(idx.begin(), idx.end(), [&](int a, int c) { return l[t*ne+a] + b[a] > l[t*ne+c] + b[c]; });
        double sum = 0; for (int s = 0; s < used; s++) sum += exp(l[t*ne+idx[s]] + b[idx[s]] - (l[t*ne+idx[0]] + b[idx[0]]));
        for (int s = 0; s < used; s++) { bad += ids[t*used+s] != idx[s]; bad += fabs(ws[t*used+s] - exp(l[t*ne+idx[s]] + b[idx[s]] - (l[t*ne+idx[0]] + b[idx[0]])) / sum) > 1e-6; } }
      snprintf(msg, sizeof msg, "moe_route: %d wrong", bad); if (bad) fail(msg); else printf("ok   %s\n", msg); }
    // argmax with ties
    { int n = 3, m = 50000; std::vector<float> x(n * m); for (auto& a : x) a = (float)(int)(unif() * 1000); x[m + 777] = 5000; x[m + 40000] = 5000;
      auto dx = dev(x); int* dout; CK(cudaMalloc(&dout, 4 * n)); argmax<<<n, 1024>>>(dx, m, n, dout); auto o = host(dout, n); int bad = 0;
      for (int t = 0; t < n; t++) { int be = 0; for (int i = 1; i < m; i++) if (x[t*m+i] > x[t*m+be]) be = i; bad += be != o[t]; }
      snprintf(msg, sizeof msg, "argmax: %d wrong", bad); if (bad) fail(msg); else printf("ok   %s\n", msg); }
    // moe_glu, moe_combine, swiglu, kv_store, gather, add_bias, add_scaled, scale
    { int pairs = 3, ff = 300; std::vector<float> g(pairs * ff), u(pairs * ff), gb(4 * ff), ub(4 * ff); for (auto& a : g) a = unif() * 10; for (auto& a : u) a = unif() * 10; for (auto& a : gb) a = unif(); for (auto& a : ub) a = unif();
      std::vector<int> ids = {2, 0, 3}; auto dg = dev(g); auto du = dev(u); auto dgb = dev(gb); auto dub = dev(ub); auto di = dev(ids);
      moe_glu<<<(pairs * ff + 255) / 256, 256>>>(dg, du, dgb, dub, di, pairs, ff); auto o = host(dg, g.size()); double err = 0;
      for (int p = 0; p < pairs; p++) for (int j = 0; j < ff; j++) { float a = std::min(g[p*ff+j] + gb[ids[p]*ff+j], 7.0f), b = std::min(std::max(u[p*ff+j] + ub[ids[p]*ff+j], -7.0f), 7.0f);
        float e = a / (1 + (float)exp((double)(-1.702f * a))) * (b + 1); err = std::max(err, (double)fabsf(e - o[p*ff+j]) / (1 + fabsf(e))); }
      snprintf(msg, sizeof msg, "moe_glu max rel error %.3g", err); if (err > 1e-6) fail(msg); else printf("ok   %s\n", msg); }
    { int n = 2, d = 500, used = 3; std::vector<float> down(n * used * d), db(5 * d), w(n * used); std::vector<int> ids = {4, 0, 2, 1, 1, 3};
      for (auto& a : down) a = unif(); for (auto& a : db) a = unif(); for (auto& a : w) a = unif();
      auto dd = dev(down); auto ddb = dev(db); auto dw = dev(w); auto di = dev(ids); float* dout; CK(cudaMalloc(&dout, 4 * n * d));
      moe_combine<<<(n * d + 255) / 256, 256>>>(dd, ddb, di, dw, dout, n, d, used); auto o = host(dout, n * d); int bad = 0;
      for (int t = 0; t < n; t++) for (int j = 0; j < d; j++) { float acc = 0; for (int s = 0; s < used; s++) acc = acc + w[t*used+s] * (down[(t*used+s)*d+j] + db[ids[t*used+s]*d+j]); bad += memcmp(&acc, &o[t*d+j], 4) != 0; }
      snprintf(msg, sizeof msg, "moe_combine: %d differing", bad); if (bad) fail(msg); else printf("ok   %s\n", msg); }
    { long long c = 1000; std::vector<float> g(c), u(c); for (auto& a : g) a = unif() * 8; for (auto& a : u) a = unif(); auto dg = dev(g); auto du = dev(u);
      swiglu<<<(c + 255) / 256, 256>>>(dg, du, c); auto o = host(dg, c); double err = 0; for (int i = 0; i < c; i++) { float e = g[i] / (1 + (float)exp((double)-g[i])) * u[i]; err = std::max(err, (double)fabsf(e - o[i])); }
      add_scaled<<<(c + 255) / 256, 256>>>(dg, du, c, 0.5f); scale<<<(c + 255) / 256, 256>>>(dg, c, 3.0f); auto o2 = host(dg, c);
      for (int i = 0; i < c; i++) { float e = (o[i] + 0.5f * u[i]) * 3.0f; err = std::max(err, (double)fabsf(e - o2[i])); }
      std::vector<float> b(250); for (auto& a : b) a = unif(); auto dbb = dev(b); add_bias<<<(4 * 250 + 255) / 256, 256>>>(dg, dbb, 4, 250); auto o3 = host(dg, c);
      for (int i = 0; i < c; i++) err = std::max(err, (double)fabsf(o2[i] + b[i % 250] - o3[i]));
      snprintf(msg, sizeof msg, "swiglu, add_scaled, scale, add_bias max error %.3g", err); if (err > 1e-6) fail(msg); else printf("ok   %s\n", msg); }
    for (int f16 = 0; f16 < 2; f16++) { int n = 2, layers = 3, layer = 2, kd = 96, vd = 64, cap = 10; std::vector<float> k(n * kd), v(n * vd); for (auto& a : k) a = unif(); for (auto& a : v) a = unif();
      size_t es = f16 ? 2 : 4; void *K1, *V1, *K2, *V2; CK(cudaMalloc(&K1, cap * layers * kd * es)); CK(cudaMalloc(&V1, cap * layers * vd * es)); CK(cudaMalloc(&K2, cap * layers * kd * es)); CK(cudaMalloc(&V2, cap * layers * vd * es));
      std::vector<unsigned long long> kb = {(unsigned long long)K1, (unsigned long long)K2}, vb = {(unsigned long long)V1, (unsigned long long)V2}; std::vector<int> pos = {3, 9};
      auto dk = dev(k); auto dv = dev(v); auto dkb = dev(kb); auto dvb = dev(vb); auto dp = dev(pos);
      (f16 ? kv_store_f16 : kv_store_f32)<<<n, 256>>>(dk, dv, dkb, dvb, dp, n, layer, layers, kd, vd); CK(cudaDeviceSynchronize()); int bad = 0;
      for (int t = 0; t < n; t++) { std::vector<uint8_t> Kh(kd * es), Vh(vd * es);
        CK(cudaMemcpy(Kh.data(), (uint8_t*)(t ? K2 : K1) + ((size_t)pos[t] * layers + layer) * kd * es, kd * es, cudaMemcpyDeviceToHost));
        CK(cudaMemcpy(Vh.data(), (uint8_t*)(t ? V2 : V1) + ((size_t)pos[t] * layers + layer) * vd * es, vd * es, cudaMemcpyDeviceToHost));
        for (int i = 0; i < kd; i++) { float got = f16 ? __half2float(((__half*)Kh.data())[i]) : ((float*)Kh.data())[i]; float e = f16 ? __half2float(__float2half(k[t*kd+i])) : k[t*kd+i]; bad += got != e; }
        for (int i = 0; i < vd; i++) { float got = f16 ? __half2float(((__half*)Vh.data())[i]) : ((float*)Vh.data())[i]; float e = f16 ? __half2float(__float2half(v[t*vd+i])) : v[t*vd+i]; bad += got != e; } }
      snprintf(msg, sizeof msg, "kv_store_%s: %d wrong", f16 ? "f16" : "f32", bad); if (bad) fail(msg); else printf("ok   %s\n", msg); }
    { int n = 2, d = 300; std::vector<float> x(5 * d); for (auto& a : x) a = unif(); std::vector<int> rows = {4, 1}; auto dx = dev(x); auto dr = dev(rows); float* dout; CK(cudaMalloc(&dout, 4 * n * d));
      gather_rows<<<n, 256>>>(dx, dr, dout, n, d); auto o = host(dout, n * d); int bad = 0; for (int t = 0; t < n; t++) bad += memcmp(&o[t*d], &x[rows[t]*d], 4 * d) != 0;
      snprintf(msg, sizeof msg, "gather_rows: %d wrong", bad); if (bad) fail(msg); else printf("ok   %s\n", msg); }
}

static void bench(int f, int rows, int k) {
    long long rb = ref::row_bytes(f, k);
    size_t bytes = (size_t)rb * rows;
    uint8_t* dW; CK(cudaMalloc(&dW, bytes));
    // Valid-ish content: random bytes with small f16 scales would need a host pass; zeros decode to 0.
    CK(cudaMemset(dW, 0x11, bytes));
    std::vector<float> X((size_t)8 * k); for (auto& v : X) v = unif();
    float* dX = dev(X); float* dY; CK(cudaMalloc(&dY, sizeof(float) * 8 * rows));
    cudaEvent_t e0, e1; cudaEventCreate(&e0); cudaEventCreate(&e1);
    printf("bench matmul_%-5s %5d x %5d (%6.1f MB):", ref::NAMES[f], rows, k, bytes / 1e6);
    for (int n : {1, 2, 4, 8}) {
        for (int i = 0; i < 3; i++) run_matmul(f, dW, rb, dX, dY, rows, k, n);
        const int reps = 20;
        cudaEventRecord(e0);
        for (int i = 0; i < reps; i++) run_matmul(f, dW, rb, dX, dY, rows, k, n);
        cudaEventRecord(e1); CK(cudaEventSynchronize(e1));
        float ms; cudaEventElapsedTime(&ms, e0, e1);
        printf("  n=%d %7.1f GB/s", n, bytes * reps / (ms * 1e-3) / 1e9);
    }
    printf("\n");
    cudaFree(dW); cudaFree(dX); cudaFree(dY);
}

int main(int argc, char** argv) {
    cudaDeviceProp prop; CK(cudaGetDeviceProperties(&prop, 0)); printf("device: %s, %d SMs\n", prop.name, prop.multiProcessorCount);
    for (int f = 0; f < ref::NFMT; f++) {
        int k = (f == ref::MXFP4 || f == ref::Q8_0 || f == ref::Q4_0) ? 2880 : (f <= ref::BF16 ? 1000 : 2048);
        check_weights(f, k, 203, 0);
        check_weights(f, k, 203, 2);
        if (f <= ref::BF16) check_weights(f, 1024, 64, 0);
    }
    check_attention(false, 8, 2, 64, 64, 0, false, {0, 37, 300});
    check_attention(true, 8, 2, 128, 128, 0, true, {5, 1000, 33});
    check_attention(false, 4, 4, 80, 48, 16, true, {0, 3, 100});
    check_attention(true, 4, 1, 256, 256, 0, false, {600, 1});
    check_attention(true, 64, 8, 64, 64, 128, true, {2000});
    check_misc();
    if (argc < 2 || strcmp(argv[1], "nobench") != 0) {
        check_attention(true, 64, 8, 64, 64, 0, true, {100000}, 1, 0);
        check_attention(true, 32, 8, 128, 128, 0, false, {100000}, 1, 0);
        for (int f = 0; f < ref::NFMT; f++) bench(f, 14336, 4096);
        bench(ref::Q4_K, 4096, 4096);
        bench(ref::MXFP4, 2880, 2880);
    }
    printf(failures ? "%d FAILURES\n" : "all checks passed\n", failures);
    return failures != 0;
}
