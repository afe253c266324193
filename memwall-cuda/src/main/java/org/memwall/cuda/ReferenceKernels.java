package org.memwall.cuda;

import static java.lang.foreign.ValueLayout.JAVA_DOUBLE;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import org.memwall.gguf.GgmlType;
import org.memwall.quant.QuantFormat;

/**
 * Java versions of every kernel of docs/gpu.md, over {@link FakeCuda}'s memory: the same arguments,
 * the same function, written plainly (float32 sums in index order) to be the reference the CUDA
 * kernels are checked against and the stand-in that runs the GPU forward pass in CI. Each kernel
 * also checks that the host launched it with the interface's grid and block.
 */
public final class ReferenceKernels {
    private ReferenceKernels() {
    }

    /** The weight formats with kernels, by the suffix their kernel names use. */
    public static final Map<String, GgmlType> FORMATS = Map.of(
            "f32", GgmlType.F32, "f16", GgmlType.F16, "bf16", GgmlType.BF16, "q8_0", GgmlType.Q8_0, "q4_0", GgmlType.Q4_0,
            "q4_k", GgmlType.Q4_K, "q5_k", GgmlType.Q5_K, "q6_k", GgmlType.Q6_K, "mxfp4", GgmlType.MXFP4);

    /** The kernel-name suffix of {@code type}, or null when it has no kernel. */
    public static String suffix(GgmlType type) {
        return FORMATS.containsValue(type) ? type.name().toLowerCase(Locale.ROOT) : null;
    }

    /** One kernel: its argument kinds, its launch geometry, and what it computes. */
    interface Kernel {
        KernelArgs.Kind[] signature();

        /** The {grid, block} the interface prescribes for these arguments. */
        int[][] geometry(KernelArgs a);

        void run(FakeCuda mem, KernelArgs a);

        default void check(String name, KernelArgs a, int[] grid, int[] block) {
            KernelArgs.Kind[] sig = signature();
            if (a.count() != sig.length) {
                throw new CudaException("CUDA error CUDA_ERROR_INVALID_VALUE (1) in cuLaunchKernel(" + name + "): " + a.count()
                        + " arguments, the kernel takes " + sig.length, 1);
            }
            for (int i = 0; i < sig.length; i++) {
                if (a.kind(i) != sig[i]) {
                    throw new CudaException("CUDA error CUDA_ERROR_INVALID_VALUE (1) in cuLaunchKernel(" + name + "): argument " + i + " is "
                            + a.kind(i) + ", the kernel takes " + sig[i], 1);
                }
            }
            int[][] want = geometry(a);
            if (!Arrays.equals(want[0], grid) || !Arrays.equals(want[1], block)) {
                throw new CudaException("launch of " + name + " with grid " + Arrays.toString(grid) + " block " + Arrays.toString(block)
                        + " does not match docs/gpu.md: grid " + Arrays.toString(want[0]) + " block " + Arrays.toString(want[1]), 1);
            }
        }
    }

    private static final KernelArgs.Kind P = KernelArgs.Kind.POINTER;
    private static final KernelArgs.Kind I = KernelArgs.Kind.INT;
    private static final KernelArgs.Kind L = KernelArgs.Kind.LONG;
    private static final KernelArgs.Kind F = KernelArgs.Kind.FLOAT;
    private static final KernelArgs.Kind D = KernelArgs.Kind.DOUBLE;

    private record Spec(KernelArgs.Kind[] signature, Geometry geometry, Body body) implements Kernel {
        @Override
        public int[][] geometry(KernelArgs a) {
            return geometry.of(a);
        }

        @Override
        public void run(FakeCuda mem, KernelArgs a) {
            body.run(mem, a);
        }
    }

    @FunctionalInterface
    private interface Geometry {
        int[][] of(KernelArgs a);
    }

    @FunctionalInterface
    private interface Body {
        void run(FakeCuda m, KernelArgs a);
    }

    private static final Map<String, Kernel> KERNELS = new HashMap<>();

    private static void add(String name, Geometry g, Body b, KernelArgs.Kind... sig) {
        KERNELS.put(name, new Spec(sig, g, b));
    }

    /** The kernel called {@code name}, or an error when the interface has none. */
    public static Kernel of(String name) {
        Kernel k = KERNELS.get(name);
        if (k == null) {
            throw new CudaException("no reference kernel " + name + " (docs/gpu.md lists the kernels)", 500);
        }
        return k;
    }

    /** Every kernel name of the interface. */
    public static java.util.Set<String> names() {
        return java.util.Collections.unmodifiableSet(KERNELS.keySet());
    }

    private static int cdiv(long a, int b) {
        return Math.toIntExact((a + b - 1) / b);
    }

    private static int[][] g(int gx, int gy, int bx, int by) {
        return new int[][] {{gx, gy, 1}, {bx, by, 1}};
    }

    private static Geometry elementwise(int countArg, boolean longCount) {
        return a -> g(cdiv(longCount ? a.int64(countArg) : a.int32(countArg), 256), 1, 256, 1);
    }

    static {
        for (Map.Entry<String, GgmlType> e : FORMATS.entrySet()) {
            QuantFormat f = QuantFormat.of(e.getValue());
            add("matmul_" + e.getKey(), a -> g(cdiv(a.int32(4), 4), cdiv(a.int32(6), 8), 32, 4),
                    (m, a) -> matmul(m, f, a.pointer(0), a.int64(1), 0, a.pointer(2), null, a.pointer(3), a.int32(4), a.int32(5), a.int32(6), 1, false),
                    P, L, P, P, I, I, I);
            add("moe_matmul_" + e.getKey(), a -> g(cdiv(a.int32(6), 4), a.int32(8), 32, 4),
                    (m, a) -> matmul(m, f, a.pointer(0), a.int64(1), a.int64(2), a.pointer(3), m.at(a.pointer(4)), a.pointer(5),
                            a.int32(6), a.int32(7), a.int32(8), a.int32(9), a.int32(10) != 0),
                    P, L, L, P, P, P, I, I, I, I, I);
            add("dequant_rows_" + e.getKey(), a -> g(a.int32(4), 1, 256, 1), (m, a) -> dequantRows(m, f, a), P, L, P, P, I, I, F);
        }
        add("rms_norm", a -> g(a.int32(3), 1, 256, 1), ReferenceKernels::rmsNorm, P, P, P, I, I, F);
        add("add_bias", a -> g(cdiv((long) a.int32(2) * a.int32(3), 256), 1, 256, 1), (m, a) -> {
            MemorySegment y = m.at(a.pointer(0));
            MemorySegment b = m.at(a.pointer(1));
            int n = a.int32(2);
            int rows = a.int32(3);
            for (long i = 0; i < (long) n * rows; i++) {
                y.setAtIndex(JAVA_FLOAT, i, y.getAtIndex(JAVA_FLOAT, i) + b.getAtIndex(JAVA_FLOAT, i % rows));
            }
        }, P, P, I, I);
        add("add_scaled", elementwise(2, true), (m, a) -> {
            MemorySegment x = m.at(a.pointer(0));
            MemorySegment y = m.at(a.pointer(1));
            float s = a.float32(3);
            for (long i = 0; i < a.int64(2); i++) {
                x.setAtIndex(JAVA_FLOAT, i, x.getAtIndex(JAVA_FLOAT, i) + s * y.getAtIndex(JAVA_FLOAT, i));
            }
        }, P, P, L, F);
        add("scale", elementwise(1, true), (m, a) -> {
            MemorySegment x = m.at(a.pointer(0));
            for (long i = 0; i < a.int64(1); i++) {
                x.setAtIndex(JAVA_FLOAT, i, x.getAtIndex(JAVA_FLOAT, i) * a.float32(2));
            }
        }, P, L, F);
        add("swiglu", elementwise(2, true), (m, a) -> {
            MemorySegment gate = m.at(a.pointer(0));
            MemorySegment up = m.at(a.pointer(1));
            for (long i = 0; i < a.int64(2); i++) {
                float v = gate.getAtIndex(JAVA_FLOAT, i);
                gate.setAtIndex(JAVA_FLOAT, i, v / (1f + (float) Math.exp(-v)) * up.getAtIndex(JAVA_FLOAT, i));
            }
        }, P, P, L);
        add("rope", a -> g(a.int32(2), 1, 256, 1), ReferenceKernels::rope, P, P, I, I, I, I, I, P, P, D, F);
        for (String kv : new String[] {"f32", "f16"}) {
            boolean half = kv.equals("f16");
            add("kv_store_" + kv, a -> g(a.int32(5), 1, 256, 1), (m, a) -> kvStore(m, a, half), P, P, P, P, P, I, I, I, I, I);
            add("attention_" + kv, a -> g(a.int32(8), a.int32(5), 128, 1), (m, a) -> attention(m, a, half), P, P, P, P, P, I, I, I, I, I, I, I, F, I, P);
        }
        add("moe_route", a -> g(a.int32(2), 1, 32, 1), ReferenceKernels::moeRoute, P, P, I, I, I, P, P);
        add("moe_glu", a -> g(cdiv((long) a.int32(5) * a.int32(6), 256), 1, 256, 1), ReferenceKernels::moeGlu, P, P, P, P, P, I, I);
        add("moe_combine", a -> g(cdiv((long) a.int32(5) * a.int32(6), 256), 1, 256, 1), ReferenceKernels::moeCombine, P, P, P, P, P, I, I, I);
        add("gather_rows", a -> g(a.int32(3), 1, 256, 1), (m, a) -> {
            MemorySegment x = m.at(a.pointer(0));
            MemorySegment rows = m.at(a.pointer(1));
            MemorySegment out = m.at(a.pointer(2));
            int d = a.int32(4);
            for (int t = 0; t < a.int32(3); t++) {
                MemorySegment.copy(x, (long) rows.getAtIndex(JAVA_INT, t) * d * 4, out, (long) t * d * 4, (long) d * 4);
            }
        }, P, P, P, I, I);
        add("argmax", a -> g(a.int32(2), 1, 1024, 1), (m, a) -> {
            MemorySegment x = m.at(a.pointer(0));
            MemorySegment out = m.at(a.pointer(3));
            int cols = a.int32(1);
            for (int t = 0; t < a.int32(2); t++) {
                int best = 0;
                for (int i = 1; i < cols; i++) {
                    if (x.getAtIndex(JAVA_FLOAT, (long) t * cols + i) > x.getAtIndex(JAVA_FLOAT, (long) t * cols + best)) {
                        best = i;
                    }
                }
                out.setAtIndex(JAVA_INT, t, best);
            }
        }, P, I, I, P);
    }

    private static float[] row(FakeCuda m, QuantFormat f, long base, long rowBytes, long row, int k) {
        float[] w = new float[k];
        f.dequantize(m.at(base + row * rowBytes).asSlice(0, rowBytes), 0, w, 0, k);
        return w;
    }

    private static void matmul(FakeCuda m, QuantFormat f, long w, long rowBytes, long expertBytes, long xPtr, MemorySegment ids, long yPtr,
                               int rows, int k, int n, int used, boolean xPerPair) {
        MemorySegment x = m.at(xPtr);
        MemorySegment y = m.at(yPtr);
        for (int r = 0; r < rows; r++) {
            float[] wr = ids == null ? row(m, f, w, rowBytes, r, k) : null;
            for (int t = 0; t < n; t++) {
                float[] wt = ids == null ? wr : row(m, f, w + ids.getAtIndex(JAVA_INT, t) * expertBytes, rowBytes, r, k);
                long xr = ids == null || xPerPair ? t : t / used;
                float s = 0;
                for (int i = 0; i < k; i++) {
                    s += wt[i] * x.getAtIndex(JAVA_FLOAT, xr * k + i);
                }
                y.setAtIndex(JAVA_FLOAT, (long) t * rows + r, s);
            }
        }
    }

    private static void dequantRows(FakeCuda m, QuantFormat f, KernelArgs a) {
        MemorySegment rows = m.at(a.pointer(2));
        MemorySegment out = m.at(a.pointer(3));
        int k = a.int32(5);
        float scale = a.float32(6);
        for (int t = 0; t < a.int32(4); t++) {
            float[] wr = row(m, f, a.pointer(0), a.int64(1), rows.getAtIndex(JAVA_INT, t), k);
            for (int i = 0; i < k; i++) {
                out.setAtIndex(JAVA_FLOAT, (long) t * k + i, wr[i] * scale);
            }
        }
    }

    private static void rmsNorm(FakeCuda m, KernelArgs a) {
        MemorySegment x = m.at(a.pointer(0));
        MemorySegment w = m.at(a.pointer(1));
        MemorySegment out = m.at(a.pointer(2));
        int d = a.int32(4);
        for (long r = 0; r < a.int32(3); r++) {
            double sum = 0;
            for (int i = 0; i < d; i++) {
                float v = x.getAtIndex(JAVA_FLOAT, r * d + i);
                sum += v * v;
            }
            float scale = 1f / (float) Math.sqrt((float) (sum / d) + a.float32(5));
            for (int i = 0; i < d; i++) {
                out.setAtIndex(JAVA_FLOAT, r * d + i, x.getAtIndex(JAVA_FLOAT, r * d + i) * scale * w.getAtIndex(JAVA_FLOAT, i));
            }
        }
    }

    private static void rope(FakeCuda m, KernelArgs a) {
        MemorySegment v = m.at(a.pointer(0));
        MemorySegment pos = m.at(a.pointer(1));
        int n = a.int32(2);
        int heads = a.int32(3);
        int hd = a.int32(4);
        int pairs = a.int32(5) / 2;
        boolean neox = a.int32(6) != 0;
        MemorySegment invFreq = m.at(a.pointer(7));
        MemorySegment ramp = m.at(a.pointer(8));
        double scale = a.float64(9);
        float magnitude = a.float32(10);
        for (int t = 0; t < n; t++) {
            int p = pos.getAtIndex(JAVA_INT, t);
            for (int i = 0; i < pairs; i++) {
                double theta = p * invFreq.getAtIndex(JAVA_DOUBLE, i);
                double r = ramp.getAtIndex(JAVA_DOUBLE, i);
                double angle = scale * theta * (1 - r) + theta * r;
                float c = (float) Math.cos(angle) * magnitude;
                float s = (float) Math.sin(angle) * magnitude;
                int ia = neox ? i : 2 * i;
                int ib = neox ? i + pairs : 2 * i + 1;
                for (int h = 0; h < heads; h++) {
                    long base = ((long) t * heads + h) * hd;
                    float x0 = v.getAtIndex(JAVA_FLOAT, base + ia);
                    float x1 = v.getAtIndex(JAVA_FLOAT, base + ib);
                    v.setAtIndex(JAVA_FLOAT, base + ia, x0 * c - x1 * s);
                    v.setAtIndex(JAVA_FLOAT, base + ib, x0 * s + x1 * c);
                }
            }
        }
    }

    private static float getKv(MemorySegment s, long i, boolean half) {
        return half ? Float.float16ToFloat(s.getAtIndex(JAVA_SHORT, i)) : s.getAtIndex(JAVA_FLOAT, i);
    }

    private static void setKv(MemorySegment s, long i, float v, boolean half) {
        if (half) {
            s.setAtIndex(JAVA_SHORT, i, Float.floatToFloat16(v));
        } else {
            s.setAtIndex(JAVA_FLOAT, i, v);
        }
    }

    private static void kvStore(FakeCuda m, KernelArgs a, boolean half) {
        MemorySegment k = m.at(a.pointer(0));
        MemorySegment v = m.at(a.pointer(1));
        MemorySegment kb = m.at(a.pointer(2));
        MemorySegment vb = m.at(a.pointer(3));
        MemorySegment pos = m.at(a.pointer(4));
        int layer = a.int32(6);
        int layers = a.int32(7);
        int kd = a.int32(8);
        int vd = a.int32(9);
        for (int t = 0; t < a.int32(5); t++) {
            long p = pos.getAtIndex(JAVA_INT, t);
            MemorySegment kc = m.at(kb.getAtIndex(JAVA_LONG, t));
            MemorySegment vc = m.at(vb.getAtIndex(JAVA_LONG, t));
            for (int i = 0; i < kd; i++) {
                setKv(kc, (p * layers + layer) * kd + i, k.getAtIndex(JAVA_FLOAT, (long) t * kd + i), half);
            }
            for (int i = 0; i < vd; i++) {
                setKv(vc, (p * layers + layer) * vd + i, v.getAtIndex(JAVA_FLOAT, (long) t * vd + i), half);
            }
        }
    }

    private static void attention(FakeCuda m, KernelArgs a, boolean half) {
        MemorySegment q = m.at(a.pointer(0));
        MemorySegment out = m.at(a.pointer(1));
        MemorySegment kb = m.at(a.pointer(2));
        MemorySegment vb = m.at(a.pointer(3));
        MemorySegment pos = m.at(a.pointer(4));
        int n = a.int32(5);
        int layer = a.int32(6);
        int layers = a.int32(7);
        int heads = a.int32(8);
        int kvHeads = a.int32(9);
        int hd = a.int32(10);
        int vd = a.int32(11);
        float scale = a.float32(12);
        int window = a.int32(13);
        MemorySegment sinks = a.pointer(14) == 0 ? null : m.at(a.pointer(14));
        for (int t = 0; t < n; t++) {
            int p = pos.getAtIndex(JAVA_INT, t);
            int first = window > 0 ? Math.max(0, p - window + 1) : 0;
            MemorySegment kc = m.at(kb.getAtIndex(JAVA_LONG, t));
            MemorySegment vc = m.at(vb.getAtIndex(JAVA_LONG, t));
            for (int h = 0; h < heads; h++) {
                int g = h / (heads / kvHeads);
                float[] s = new float[p + 1];
                float max = Float.NEGATIVE_INFINITY;
                for (int j = first; j <= p; j++) {
                    long kOff = (((long) j * layers + layer) * kvHeads + g) * hd;
                    float dot = 0;
                    for (int i = 0; i < hd; i++) {
                        dot += q.getAtIndex(JAVA_FLOAT, ((long) t * heads + h) * hd + i) * getKv(kc, kOff + i, half);
                    }
                    s[j] = dot * scale;
                    max = Math.max(max, s[j]);
                }
                float sink = sinks == null ? Float.NaN : sinks.getAtIndex(JAVA_FLOAT, h);
                if (!Float.isNaN(sink)) {
                    max = Math.max(max, sink);
                }
                double sum = Float.isNaN(sink) ? 0 : Math.exp(sink - max);
                for (int j = first; j <= p; j++) {
                    s[j] = (float) Math.exp(s[j] - max);
                    sum += s[j];
                }
                for (int i = 0; i < vd; i++) {
                    float acc = 0;
                    for (int j = first; j <= p; j++) {
                        acc += s[j] * getKv(vc, (((long) j * layers + layer) * kvHeads + g) * vd + i, half);
                    }
                    out.setAtIndex(JAVA_FLOAT, ((long) t * heads + h) * vd + i, (float) (acc / sum));
                }
            }
        }
    }

    private static void moeRoute(FakeCuda m, KernelArgs a) {
        MemorySegment logits = m.at(a.pointer(0));
        MemorySegment bias = a.pointer(1) == 0 ? null : m.at(a.pointer(1));
        int n = a.int32(2);
        int ne = a.int32(3);
        int used = a.int32(4);
        MemorySegment ids = m.at(a.pointer(5));
        MemorySegment weights = m.at(a.pointer(6));
        for (int t = 0; t < n; t++) {
            float[] l = new float[ne];
            for (int e = 0; e < ne; e++) {
                l[e] = logits.getAtIndex(JAVA_FLOAT, (long) t * ne + e) + (bias == null ? 0f : bias.getAtIndex(JAVA_FLOAT, e));
            }
            boolean[] taken = new boolean[ne];
            int[] chosen = new int[used];
            float max = Float.NEGATIVE_INFINITY;
            for (int s = 0; s < used; s++) {
                int best = -1;
                for (int e = 0; e < ne; e++) {
                    if (!taken[e] && (best < 0 || l[e] > l[best])) {
                        best = e;
                    }
                }
                taken[best] = true;
                chosen[s] = best;
                max = Math.max(max, l[best]);
            }
            double sum = 0;
            float[] w = new float[used];
            for (int s = 0; s < used; s++) {
                w[s] = (float) Math.exp(l[chosen[s]] - max);
                sum += w[s];
            }
            for (int s = 0; s < used; s++) {
                ids.setAtIndex(JAVA_INT, (long) t * used + s, chosen[s]);
                weights.setAtIndex(JAVA_FLOAT, (long) t * used + s, w[s] / (float) sum);
            }
        }
    }

    private static void moeGlu(FakeCuda m, KernelArgs a) {
        MemorySegment gate = m.at(a.pointer(0));
        MemorySegment up = m.at(a.pointer(1));
        MemorySegment gb = a.pointer(2) == 0 ? null : m.at(a.pointer(2));
        MemorySegment ub = a.pointer(3) == 0 ? null : m.at(a.pointer(3));
        MemorySegment ids = m.at(a.pointer(4));
        int ff = a.int32(6);
        for (int p = 0; p < a.int32(5); p++) {
            long e = ids.getAtIndex(JAVA_INT, p);
            for (int j = 0; j < ff; j++) {
                long i = (long) p * ff + j;
                float g = gate.getAtIndex(JAVA_FLOAT, i) + (gb == null ? 0f : gb.getAtIndex(JAVA_FLOAT, e * ff + j));
                float u = up.getAtIndex(JAVA_FLOAT, i) + (ub == null ? 0f : ub.getAtIndex(JAVA_FLOAT, e * ff + j));
                g = Math.min(g, 7f);
                u = Math.max(-7f, Math.min(u, 7f));
                gate.setAtIndex(JAVA_FLOAT, i, g / (1f + (float) Math.exp(-1.702f * g)) * (u + 1f));
            }
        }
    }

    private static void moeCombine(FakeCuda m, KernelArgs a) {
        MemorySegment down = m.at(a.pointer(0));
        MemorySegment db = a.pointer(1) == 0 ? null : m.at(a.pointer(1));
        MemorySegment ids = m.at(a.pointer(2));
        MemorySegment weights = m.at(a.pointer(3));
        MemorySegment out = m.at(a.pointer(4));
        int d = a.int32(6);
        int used = a.int32(7);
        for (int t = 0; t < a.int32(5); t++) {
            for (int j = 0; j < d; j++) {
                float acc = 0;
                for (int s = 0; s < used; s++) {
                    long p = (long) t * used + s;
                    long e = ids.getAtIndex(JAVA_INT, p);
                    acc += weights.getAtIndex(JAVA_FLOAT, p) * (down.getAtIndex(JAVA_FLOAT, p * d + j) + (db == null ? 0f : db.getAtIndex(JAVA_FLOAT, e * d + j)));
                }
                out.setAtIndex(JAVA_FLOAT, (long) t * d + j, acc);
            }
        }
    }
}
