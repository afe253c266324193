package org.memwall.cuda;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.SplittableRandom;
import org.memwall.gguf.GgmlType;

/**
 * Runs a kernel on a real device and its Java reference ({@link ReferenceKernels} on a
 * {@link FakeCuda}) with the same inputs and measures how far the outputs are apart (relative L2;
 * NaN when the device left an output unwritten: outputs are poisoned with NaN first). Used by
 * {@link GpuCheck} on whole tensors and by {@link CudaForward}'s load-time self-check on a few rows.
 */
final class KernelComparison implements AutoCloseable {
    private final CudaDriver gpu;
    private final FakeCuda ref = new FakeCuda(Long.MAX_VALUE);
    private final DeviceKernels kg;
    private final DeviceKernels kr;
    private final SplittableRandom random;

    /** Compares on {@code gpu}'s current device, launching on {@code stream}; inputs drawn from {@code seed}. */
    KernelComparison(CudaDriver gpu, long stream, long seed) {
        this.gpu = gpu;
        this.random = new SplittableRandom(seed);
        ref.makeCurrent(0);
        kg = new DeviceKernels(gpu, stream);
        kr = new DeviceKernels(ref, ref.createStream());
    }

    /** A buffer on both sides. */
    private record Twin(long g, long r) {
    }

    private Twin upload(MemorySegment data) {
        long g = gpu.alloc(data.byteSize());
        long r = ref.alloc(data.byteSize());
        gpu.copyToDevice(g, data, data.byteSize(), kg.stream());
        gpu.synchronize(kg.stream());
        ref.copyToDevice(r, data, data.byteSize(), 0);
        return new Twin(g, r);
    }

    private Twin floats(float[] v) {
        return upload(MemorySegment.ofArray(v));
    }

    private Twin ints(int[] v) {
        return upload(MemorySegment.ofArray(v));
    }

    private Twin longs(long[] g, long[] r) {
        Twin t = upload(MemorySegment.ofArray(g));
        MemorySegment.copy(MemorySegment.ofArray(r), 0, ref.at(t.r), 0, r.length * 8L);
        return t;
    }

    private Twin output(long count) {
        float[] nan = new float[Math.toIntExact(count)];
        Arrays.fill(nan, Float.NaN);
        return floats(nan);
    }

    private float[] read(Twin t, int count, boolean fromGpu) {
        MemorySegment host = MemorySegment.ofArray(new float[count]);
        if (fromGpu) {
            gpu.synchronize(kg.stream());
            gpu.copyToHost(host, t.g, count * 4L, kg.stream());
            gpu.synchronize(kg.stream());
        } else {
            MemorySegment.copy(ref.at(t.r), 0, host, 0, count * 4L);
        }
        return host.toArray(JAVA_FLOAT);
    }

    private void free(Twin... ts) {
        for (Twin t : ts) {
            if (t.g != 0) {
                gpu.free(t.g);
                ref.free(t.r);
            }
        }
    }

    private float[] randomFloats(int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) random.nextGaussian();
        }
        return v;
    }

    static double relativeL2(float[] a, float[] ref) {
        double num = 0;
        double den = 0;
        for (int i = 0; i < ref.length; i++) {
            double d = (double) a[i] - ref[i];
            num += d * d;
            den += (double) ref[i] * ref[i];
        }
        return Double.isNaN(num) ? Double.NaN : Math.sqrt(num / Math.max(den, 1e-30));
    }

    /**
     * {@code matmul_T} over {@code rows} rows of {@code k} elements in {@code data}, for each batch
     * size of {@code ns} (ascending, the first 1): the errors per n, and whether token 0's outputs
     * were bit-identical at every n (batch invariance).
     */
    record MatmulResult(double[] errors, boolean batchInvariant, double dequantError) {
    }

    MatmulResult matmul(MemorySegment data, GgmlType type, int k, int rows, int[] ns) {
        Twin w = upload(data);
        long rowBytes = type.bytesFor(k);
        DeviceMatrix mg = new DeviceMatrix(w.g, type, k, rows, 1, rowBytes);
        DeviceMatrix mr = new DeviceMatrix(w.r, type, k, rows, 1, rowBytes);
        int most = ns[ns.length - 1];
        Twin xs = floats(randomFloats(most * k));
        double[] errors = new double[ns.length];
        boolean invariant = true;
        float[] single = null;
        for (int i = 0; i < ns.length; i++) {
            int n = ns[i];
            Twin y = output((long) n * rows);
            kg.matmul(mg, xs.g, y.g, n);
            kr.matmul(mr, xs.r, y.r, n);
            float[] a = read(y, n * rows, true);
            errors[i] = relativeL2(a, read(y, n * rows, false));
            if (i == 0) {
                single = Arrays.copyOf(a, rows);
            } else {
                invariant &= Arrays.equals(single, Arrays.copyOf(a, rows));
            }
            free(y);
        }
        int[] ids = {rows - 1, 0, rows / 2, Math.min(1, rows - 1)};
        Twin idx = ints(ids);
        Twin out = output(4L * k);
        kg.dequantRows(mg, idx.g, out.g, 4, 0.5f);
        kr.dequantRows(mr, idx.r, out.r, 4, 0.5f);
        double dequant = relativeL2(read(out, 4 * k, true), read(out, 4 * k, false));
        free(w, xs, idx, out);
        return new MatmulResult(errors, invariant, dequant);
    }

    /** {@code moe_matmul_T} for 3 tokens × 2 experts each, inputs per token then per pair: two errors. */
    double[] moeMatmul(MemorySegment data, GgmlType type, int k, int rows, int experts) {
        Twin w = upload(data);
        long rowBytes = type.bytesFor(k);
        DeviceMatrix mg = new DeviceMatrix(w.g, type, k, rows, experts, rowBytes);
        DeviceMatrix mr = new DeviceMatrix(w.r, type, k, rows, experts, rowBytes);
        int used = 2;
        int n = 3;
        int[] ids = new int[n * used];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = random.nextInt(experts);
        }
        Twin idx = ints(ids);
        Twin xs = floats(randomFloats(n * used * k));
        double[] errors = new double[2];
        for (int i = 0; i < 2; i++) {
            boolean perPair = i == 1;
            Twin y = output((long) n * used * rows);
            kg.moeMatmul(mg, xs.g, idx.g, y.g, n * used, used, perPair);
            kr.moeMatmul(mr, xs.r, idx.r, y.r, n * used, used, perPair);
            errors[i] = relativeL2(read(y, n * used * rows, true), read(y, n * used * rows, false));
            free(y);
        }
        free(w, idx, xs);
        return errors;
    }

    /**
     * {@code kv_store_KV} then {@code attention_KV} for two sequences in one batch (at
     * {@code positions} − 1 and a third of it), every cached position written through kv_store.
     */
    double attention(boolean half, int heads, int kvHeads, int headDim, int positions, int window, boolean sinks) {
        int layers = 2;
        int layer = 1;
        int kd = kvHeads * headDim;
        int elem = half ? 2 : 4;
        int[] pos = {positions - 1, positions / 3};
        long cacheBytes = (long) positions * layers * kd * elem;
        Twin[] kc = {output(cacheBytes / 4), output(cacheBytes / 4)};
        Twin[] vc = {output(cacheBytes / 4), output(cacheBytes / 4)};
        Twin kb = longs(new long[] {kc[0].g, kc[1].g}, new long[] {kc[0].r, kc[1].r});
        Twin vb = longs(new long[] {vc[0].g, vc[1].g}, new long[] {vc[0].r, vc[1].r});
        int chunk = 64;
        for (int s = 0; s < 2; s++) {
            for (int p0 = 0; p0 <= pos[s]; p0 += chunk) {
                int n = Math.min(chunk, pos[s] + 1 - p0);
                int[] ps = new int[n];
                int first = p0;
                Arrays.setAll(ps, i -> first + i);
                Twin pp = ints(ps);
                Twin kk = floats(randomFloats(n * kd));
                Twin vv = floats(randomFloats(n * kd));
                Twin kbs = longs(filled(n, kc[s].g), filled(n, kc[s].r));
                Twin vbs = longs(filled(n, vc[s].g), filled(n, vc[s].r));
                kg.kvStore(half, kk.g, vv.g, kbs.g, vbs.g, pp.g, n, layer, layers, kd, kd);
                kr.kvStore(half, kk.r, vv.r, kbs.r, vbs.r, pp.r, n, layer, layers, kd, kd);
                gpu.synchronize(kg.stream());
                free(pp, kk, vv, kbs, vbs);
            }
        }
        Twin q = floats(randomFloats(2 * heads * headDim));
        Twin p = ints(pos);
        Twin sink = sinks ? floats(randomFloats(heads)) : new Twin(0, 0);
        Twin out = output(2L * heads * headDim);
        float scale = (float) (1 / Math.sqrt(headDim));
        kg.attention(half, q.g, out.g, kb.g, vb.g, p.g, 2, layer, layers, heads, kvHeads, headDim, headDim, scale, window, sink.g);
        kr.attention(half, q.r, out.r, kb.r, vb.r, p.r, 2, layer, layers, heads, kvHeads, headDim, headDim, scale, window, sink.r);
        double error = relativeL2(read(out, 2 * heads * headDim, true), read(out, 2 * heads * headDim, false));
        free(kc[0], kc[1], vc[0], vc[1], kb, vb, q, p, out, sink);
        return error;
    }

    private static long[] filled(int n, long v) {
        long[] a = new long[n];
        Arrays.fill(a, v);
        return a;
    }

    @Override
    public void close() {
        gpu.synchronize(kg.stream());
    }
}
