package org.memwall.bench;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.memwall.gguf.GgmlType;
import org.memwall.tensor.MatMul;
import org.memwall.tensor.Parallel;
import org.memwall.tensor.Tensor;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Matrix-vector (decode, tokens = 1: the fused kernels) and matrix-matrix (prefill, tokens = 64: the
 * tiled kernels) products of a 4096×4096 weight in each quantized format, random blocks with valid
 * scales, on the persistent compute pool. Weight
 * GB/s = the format's bytes (4096·4096 / block · block bytes) / seconds per op.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
// Without on-stack replacement: with it, about half of the forks measured the one-token kernels
// running the Vector API's Java fallback (3.5-13 ms instead of 0.54 ms per Q4_0 product, 54 MB allocated
// per product; JFR showed FloatVector.fma's fallback under Q4_0.dot) and never recovered; without it,
// every fork measures the compiled kernel. memwall itself runs with it (the bench command showed no
// such collapse, and without it synth ran 17% longer).
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED",
        "-XX:-UseOnStackReplacement"})
public class MatVecBenchmark {
    @Param({"Q8_0", "Q4_0", "Q4_K", "Q5_K", "Q6_K", "F16", "BF16", "MXFP4"})
    public String type;

    @Param({"1", "64"})
    public int tokens;

    @Param("0")
    public int threads;

    /** {@code file}: the stored blocks; {@code interleaved}: the CPU's row-interleaved copy, where the format has one. */
    @Param({"interleaved", "file"})
    public String layout;

    /** Weight rows (of 4096): 4096 streams ~10-18 MB from memory; 128 keeps the weights in L2 (compute alone). */
    @Param("4096")
    public int rows;

    private static final int N = 4096;
    private Arena arena;
    private Tensor weight;
    private Parallel pool;
    private float[] x;
    private float[] out;

    @Setup(Level.Trial)
    public void setup() {
        GgmlType t = GgmlType.valueOf(type);
        long bytes = t.bytesFor((long) rows * N);
        arena = Arena.ofShared();
        MemorySegment data = arena.allocate(bytes, 64);
        SplittableRandom r = new SplittableRandom(1);
        for (long i = 0; i < bytes; i++) {
            data.set(ValueLayout.JAVA_BYTE, i, (byte) r.nextInt(256));
        }
        if (t == GgmlType.MXFP4) {
            for (long b = 0; b < bytes; b += t.blockBytes) {
                data.set(ValueLayout.JAVA_BYTE, b, (byte) (120 + r.nextInt(10))); // e8m0 scales near 1
            }
        } else {
            // Scales and mins are f16 somewhere in every block: keep every 16-bit word finite and far from
            // the range where products overflow (which would time slow paths, not the kernels).
            for (long i = 0; i + 1 < bytes; i += 2) {
                short h = data.get(ValueLayout.JAVA_SHORT_UNALIGNED, i);
                if ((h & 0x7c00) >= 0x6000) {
                    data.set(ValueLayout.JAVA_SHORT_UNALIGNED, i, (short) (h & ~0x4000));
                }
            }
        }
        weight = new Tensor("w", t, new long[] {N, rows}, data);
        pool = threads > 0 ? new Parallel(threads) : Parallel.perCore();
        if (layout.equals("interleaved")) {
            weight.interleave(pool);
        }
        x = new float[tokens * N];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) r.nextGaussian();
        }
        out = new float[tokens * rows];
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        pool.close();
        arena.close();
    }

    @Benchmark
    public float[] matmul() {
        MatMul.matmul(pool, weight, x, tokens, out);
        return out;
    }
}
