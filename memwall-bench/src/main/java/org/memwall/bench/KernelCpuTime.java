package org.memwall.bench;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.management.ManagementFactory;
import java.util.SplittableRandom;
import org.memwall.gguf.GgmlType;
import org.memwall.tensor.MatMul;
import org.memwall.tensor.Parallel;
import org.memwall.tensor.Tensor;

/**
 * One weight product timed by the process's CPU time rather than the wall clock, so that other processes on a shared
 * machine (which take the CPU away, not add work) do not count: {@code KernelCpuTime TYPE TOKENS ROWS N SECONDS
 * [THREADS]} multiplies a ROWS × N matrix of random blocks of TYPE, repacked as a model's are, by TOKENS rows of
 * activations, warms up for 40% of SECONDS and prints the best of five windows (CPU µs per product, GMAC/s and
 * weight GB/s per CPU second, bytes allocated per product: anything above a few KB is boxing). Cache and memory
 * contention still count; compare configurations alternately in one session. An optional seventh argument COPIES
 * repacks that many copies of the matrix and multiplies them in turn, as a model's layers are: with enough of them
 * (more than the last-level cache holds) every product streams its weights from memory.
 */
public final class KernelCpuTime {
    private KernelCpuTime() {
    }

    public static void main(String[] a) {
        GgmlType t = GgmlType.valueOf(a[0]);
        int tokens = Integer.parseInt(a[1]), rows = Integer.parseInt(a[2]), n = Integer.parseInt(a[3]);
        double secs = Double.parseDouble(a[4]);
        int threads = a.length > 5 ? Integer.parseInt(a[5]) : 1;
        int copies = a.length > 6 ? Integer.parseInt(a[6]) : 1;
        long bytes = t.bytesFor((long) rows * n);
        MemorySegment data = Arena.ofShared().allocate(bytes, 64);
        SplittableRandom r = new SplittableRandom(1);
        for (long i = 0; i < bytes; i++) {
            data.set(ValueLayout.JAVA_BYTE, i, (byte) r.nextInt(256));
        }
        for (long i = 0; i + 1 < bytes; i += 2) {
            short h = data.get(ValueLayout.JAVA_SHORT_UNALIGNED, i);
            if ((h & 0x7c00) >= 0x6000) { // keep scales finite, far from overflow
                data.set(ValueLayout.JAVA_SHORT_UNALIGNED, i, (short) (h & ~0x4000));
            }
        }
        Parallel pool = new Parallel(threads);
        Tensor[] ws = new Tensor[copies];
        for (int c = 0; c < copies; c++) {
            ws[c] = new Tensor("w" + c, t, new long[] {n, rows}, data);
            ws[c].interleave(pool);
        }
        float[] x = new float[tokens * n];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) r.nextGaussian();
        }
        float[] out = new float[tokens * rows];
        var os = (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
        long end = System.nanoTime() + (long) (secs * 0.4e9);
        for (int i = 0; System.nanoTime() < end; i++) {
            MatMul.matmul(pool, ws[i % copies], x, tokens, out);
        }
        double best = 1e30;
        long alloc = 0;
        for (int rep = 0; rep < 5; rep++) {
            var tb = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
            long a0 = tb.getTotalThreadAllocatedBytes();
            long c0 = os.getProcessCpuTime();
            int ops = 0;
            long e = System.nanoTime() + (long) (secs * 0.12e9);
            while (System.nanoTime() < e) {
                MatMul.matmul(pool, ws[ops % copies], x, tokens, out);
                ops++;
            }
            double us = (os.getProcessCpuTime() - c0) / 1e3 / ops;
            best = Math.min(best, us);
            alloc = (tb.getTotalThreadAllocatedBytes() - a0) / ops;
        }
        double macs = (double) tokens * rows * n;
        System.out.printf("%s tokens=%d rows=%d: %.1f us cpu/op, %.1f GMAC/s per cpu, %.1f GB/s per cpu, %d B alloc/op%n", a[0], tokens, rows, best, macs / best / 1e3, bytes / best / 1e3, alloc);
        pool.close();
    }
}
