package org.memwall.cuda;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;

/**
 * memwall's kernels loaded on one device, with one method per kernel that launches it with the
 * geometry docs/gpu.md prescribes. Argument order and meaning are the interface's; see there.
 */
final class DeviceKernels {
    static final String PTX_RESOURCE = "/org/memwall/cuda/memwall.ptx";

    private final CudaDriver cu;
    private final long module;
    private final Map<String, Long> functions = new HashMap<>();
    private long stream;

    DeviceKernels(CudaDriver cu, long stream) {
        this.cu = cu;
        this.stream = stream;
        this.module = cu.loadModule(ptx());
    }

    /** The committed PTX text. */
    static String ptx() {
        try (InputStream in = DeviceKernels.class.getResourceAsStream(PTX_RESOURCE)) {
            if (in == null) {
                throw new CudaException("memwall's GPU kernels are missing from the jar (" + PTX_RESOURCE + ")", -1);
            }
            return new String(in.readAllBytes(), StandardCharsets.US_ASCII);
        } catch (IOException e) {
            throw new CudaException("cannot read memwall's GPU kernels: " + e.getMessage(), -1);
        }
    }

    long stream() {
        return stream;
    }

    private long fn(String name) {
        Long f = functions.get(name);
        if (f == null) {
            f = cu.function(module, name);
            functions.put(name, f);
        }
        return f;
    }

    private void launch(String name, int gx, int gy, int bx, int by, KernelArgs a) {
        cu.launch(fn(name), gx, gy, 1, bx, by, 1, stream, a);
    }

    private static int cdiv(long a, int b) {
        return Math.toIntExact((a + b - 1) / b);
    }

    void matmul(DeviceMatrix w, long x, long y, int n) {
        launch("matmul_" + w.suffix(), cdiv(w.rows(), 4), cdiv(n, 8), 32, 4,
                new KernelArgs().ptr(w.address()).i64(w.rowBytes()).ptr(x).ptr(y).i32(w.rows()).i32(w.columns()).i32(n));
    }

    void moeMatmul(DeviceMatrix w, long x, long ids, long y, int pairs, int used, boolean xPerPair) {
        launch("moe_matmul_" + w.suffix(), cdiv(w.rows(), 4), pairs, 32, 4,
                new KernelArgs().ptr(w.address()).i64(w.rowBytes()).i64(w.expertBytes()).ptr(x).ptr(ids).ptr(y)
                        .i32(w.rows()).i32(w.columns()).i32(pairs).i32(used).i32(xPerPair ? 1 : 0));
    }

    void dequantRows(DeviceMatrix w, long rows, long out, int n, float scale) {
        launch("dequant_rows_" + w.suffix(), n, 1, 256, 1,
                new KernelArgs().ptr(w.address()).i64(w.rowBytes()).ptr(rows).ptr(out).i32(n).i32(w.columns()).f32(scale));
    }

    void rmsNorm(long x, long weight, long out, int rows, int d, float eps) {
        launch("rms_norm", rows, 1, 256, 1, new KernelArgs().ptr(x).ptr(weight).ptr(out).i32(rows).i32(d).f32(eps));
    }

    void addBias(long y, long bias, int n, int m) {
        launch("add_bias", cdiv((long) n * m, 256), 1, 256, 1, new KernelArgs().ptr(y).ptr(bias).i32(n).i32(m));
    }

    void addScaled(long x, long y, long count, float s) {
        launch("add_scaled", cdiv(count, 256), 1, 256, 1, new KernelArgs().ptr(x).ptr(y).i64(count).f32(s));
    }

    void scale(long x, long count, float s) {
        launch("scale", cdiv(count, 256), 1, 256, 1, new KernelArgs().ptr(x).i64(count).f32(s));
    }

    void swiglu(long g, long u, long count) {
        launch("swiglu", cdiv(count, 256), 1, 256, 1, new KernelArgs().ptr(g).ptr(u).i64(count));
    }

    void rope(long v, long pos, int n, int heads, int headDim, int ropeDim, boolean neox, long invFreq, long ramp, double scale, float magnitude) {
        launch("rope", n, 1, 256, 1, new KernelArgs().ptr(v).ptr(pos).i32(n).i32(heads).i32(headDim).i32(ropeDim).i32(neox ? 1 : 0)
                .ptr(invFreq).ptr(ramp).f64(scale).f32(magnitude));
    }

    void kvStore(boolean half, long k, long v, long kbase, long vbase, long pos, int n, int layer, int layers, int kd, int vd) {
        launch(half ? "kv_store_f16" : "kv_store_f32", n, 1, 256, 1,
                new KernelArgs().ptr(k).ptr(v).ptr(kbase).ptr(vbase).ptr(pos).i32(n).i32(layer).i32(layers).i32(kd).i32(vd));
    }

    void attention(boolean half, long q, long out, long kbase, long vbase, long pos, int n, int layer, int layers, int heads, int kvHeads,
                   int headDim, int valueDim, float scale, int window, long sinks) {
        launch(half ? "attention_f16" : "attention_f32", heads, n, 128, 1,
                new KernelArgs().ptr(q).ptr(out).ptr(kbase).ptr(vbase).ptr(pos).i32(n).i32(layer).i32(layers).i32(heads).i32(kvHeads)
                        .i32(headDim).i32(valueDim).f32(scale).i32(window).ptr(sinks));
    }

    void moeRoute(long logits, long bias, int n, int experts, int used, long ids, long weights) {
        launch("moe_route", n, 1, 32, 1, new KernelArgs().ptr(logits).ptr(bias).i32(n).i32(experts).i32(used).ptr(ids).ptr(weights));
    }

    void moeGlu(long g, long u, long gateBias, long upBias, long ids, int pairs, int ff) {
        launch("moe_glu", cdiv((long) pairs * ff, 256), 1, 256, 1, new KernelArgs().ptr(g).ptr(u).ptr(gateBias).ptr(upBias).ptr(ids).i32(pairs).i32(ff));
    }

    void moeCombine(long down, long downBias, long ids, long weights, long out, int n, int d, int used) {
        launch("moe_combine", cdiv((long) n * d, 256), 1, 256, 1,
                new KernelArgs().ptr(down).ptr(downBias).ptr(ids).ptr(weights).ptr(out).i32(n).i32(d).i32(used));
    }

    void gatherRows(long x, long rows, long out, int n, int d) {
        launch("gather_rows", n, 1, 256, 1, new KernelArgs().ptr(x).ptr(rows).ptr(out).i32(n).i32(d));
    }

    void argmax(long x, int m, int n, long out) {
        launch("argmax", n, 1, 1024, 1, new KernelArgs().ptr(x).i32(m).i32(n).ptr(out));
    }
}
