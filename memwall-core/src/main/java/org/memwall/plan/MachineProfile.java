package org.memwall.plan;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.Collection;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.Set;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.memwall.MemwallException;
import org.memwall.gguf.GgmlType;
import org.memwall.quant.Quantizer;
import org.memwall.tensor.MatMul;
import org.memwall.tensor.MemoryBandwidth;
import org.memwall.tensor.Parallel;
import org.memwall.tensor.Tensor;

/**
 * The machine memwall runs on, measured by memwall itself ({@code --hardware this-machine}): its
 * memory read bandwidth ({@link MemoryBandwidth}), and per weight format the rates of memwall's own
 * matrix kernels as decode and prefill run them, through {@link MatMul} on the compute pool:
 * <ul>
 *   <li>stream rate: bytes/s of a one-token product over a matrix far larger than the caches (decode);</li>
 *   <li>tile rate: FLOP/s of a {@value #TILE_TOKENS}-token product (prefill's register tiles);</li>
 *   <li>dispatch: the mean seconds of one parallel operation (every thread wakes, does a little
 *       work and meets the others), which every matrix product, the attention of every layer and
 *       the logits' product pay once per step.</li>
 * </ul>
 * Matrices are random rows quantized by memwall's quantizers and repeated to the size measured (memory
 * reads cost the same whatever the bytes hold). The median of a few passes is kept, as bench keeps its repeats' median.
 */
public final class MachineProfile {
    /** The hardware id that asks for a measurement. */
    public static final String ID = "this-machine";
    /** The formats memwall quantizes to, the ones its synthetic models and GGUF mixes use. */
    static final List<GgmlType> FORMATS = List.of(GgmlType.F32, GgmlType.F16, GgmlType.BF16, GgmlType.Q8_0, GgmlType.Q6_K, GgmlType.Q5_0,
            GgmlType.Q4_K, GgmlType.Q4_0);
    static final int TILE_TOKENS = 128;
    private static final int ROW = 4096;
    private static final int DISTINCT_ROWS = 16;
    private static final int PASSES = 5;
    /** A format's timed passes stop after this long (the first, which compiles the kernel, is not kept). */
    private static final double SECONDS_PER_FORMAT = 0.3;
    /** Bytes each format streams: three times a 32 MiB last-level cache, so no pass finds the last one's rows in it. */
    public static final long STREAM_BYTES = 96L << 20;

    private MachineProfile() {
    }

    /** Measures every format memwall quantizes to. */
    public static Hardware measure(int threads, long streamBytes) {
        return measure(threads, streamBytes, FORMATS);
    }

    /**
     * Measures the machine with {@code threads} compute threads for the weight {@code formats} given
     * (F32 is always measured: memwall's attention runs over F32 keys and values), streaming
     * {@code streamBytes} per format; a format takes about half a second.
     */
    public static Hardware measure(int threads, long streamBytes, Collection<GgmlType> formats) {
        Set<GgmlType> measured = EnumSet.of(GgmlType.F32);
        for (GgmlType t : formats) {
            if (!Quantizer.supports(t)) {
                throw new MemwallException("this-machine: memwall cannot measure " + t + " weights (it measures " + FORMATS + ")");
            }
            measured.add(t);
        }
        try (Parallel pool = new Parallel(threads)) {
            double bandwidth = MemoryBandwidth.measure(pool, streamBytes, PASSES);
            Map<GgmlType, Double> stream = new EnumMap<>(GgmlType.class);
            Map<GgmlType, Double> tile = new EnumMap<>(GgmlType.class);
            for (GgmlType t : measured) {
                stream.put(t, streamRate(pool, t, streamBytes));
                tile.put(t, tileRate(pool, t));
            }
            double dispatch = dispatchSeconds(pool);
            String name = String.format(java.util.Locale.ROOT, "this machine (%d threads, measured by memwall)", threads);
            Map<String, Hardware.Source> sources = Map.of("bandwidth_tbps", new Hardware.Source("MemoryBandwidth.measure", "measured"),
                    "stream_rates", new Hardware.Source("MachineProfile: one-token MatMul per format", "measured"),
                    "tile_rates", new Hardware.Source("MachineProfile: " + TILE_TOKENS + "-token MatMul per format", "measured"),
                    "memory_gb", new Hardware.Source("the operating system's physical memory", "measured"));
            return new Hardware(ID, name, physicalMemory(), bandwidth, Map.of(), Double.NaN, Double.NaN, "dram", 0, Map.copyOf(stream),
                    Map.copyOf(tile), dispatch, sources);
        }
    }

    /** Bytes/s of one-token products over a {@code bytes}-sized matrix of {@code type}. */
    static double streamRate(Parallel pool, GgmlType type, long bytes) {
        int rowBytes = Math.toIntExact(type.bytesFor(ROW));
        int rows = (int) Math.max(DISTINCT_ROWS, bytes / rowBytes);
        try (Arena arena = Arena.ofShared()) {
            Tensor w = matrix(arena, type, rows);
            float[] x = activations(1);
            float[] out = new float[rows];
            return w.byteSize() / medianSeconds(() -> MatMul.matmul(pool, w, x, 1, out));
        }
    }

    /** FLOP/s of {@value #TILE_TOKENS}-token products over a matrix of {@code type} (1,024 rows of 4,096). */
    static double tileRate(Parallel pool, GgmlType type) {
        int rows = 1024;
        try (Arena arena = Arena.ofShared()) {
            Tensor w = matrix(arena, type, rows);
            float[] x = activations(TILE_TOKENS);
            float[] out = new float[rows * TILE_TOKENS];
            return 2.0 * rows * ROW * TILE_TOKENS / medianSeconds(() -> MatMul.matmul(pool, w, x, TILE_TOKENS, out));
        }
    }

    /**
     * Median of up to {@value #PASSES} timed runs (the faster of two when only two fit in
     * {@value #SECONDS_PER_FORMAT} s) after two untimed ones that let the JIT compile the kernel. The
     * median, as {@code memwall bench} reports the median of its repeats: on a machine shared with other
     * work the fastest pass is one the others left alone, which a sustained run does not see.
     */
    private static double medianSeconds(Runnable run) {
        run.run();
        run.run();
        double[] times = new double[PASSES];
        int done = 0;
        double spent = 0;
        while (done < PASSES && spent < SECONDS_PER_FORMAT) {
            long t0 = System.nanoTime();
            run.run();
            times[done] = (System.nanoTime() - t0) / 1e9;
            spent += times[done++];
        }
        double[] kept = Arrays.copyOf(times, done);
        Arrays.sort(kept);
        return kept[(done - 1) / 2];
    }

    /**
     * Mean seconds of one parallel operation: every thread of the pool wakes, does a few hundred
     * floats of work and meets the others at the barrier, as each of a decode step's products and its
     * attention do. (A 16-row product, measured before, fits in one piece that the caller runs alone,
     * so it timed no dispatch at all.) The mean, not the median: a step pays the sum of its
     * operations, stalls included (a worker descheduled by other processes holds up the barrier).
     */
    static double dispatchSeconds(Parallel pool) {
        return dispatchSeconds(pool, new boolean[pool.threads()]);
    }

    /** As {@link #dispatchSeconds(Parallel)}, marking in {@code ran} each thread index that took part. */
    static double dispatchSeconds(Parallel pool, boolean[] ran) {
        int n = 256;
        float[][] work = new float[pool.threads()][n];
        Parallel.RangeTask body = (from, to, thread) -> {
            ran[thread] = true;
            float[] w = work[thread];
            for (int i = 0; i < n; i++) {
                w[i] = w[i] * 0.5f + i;
            }
        };
        for (int warm = 0; warm < 2000; warm++) {
            pool.forRange(pool.threads(), body);
        }
        int runs = 400;
        long t0 = System.nanoTime();
        for (int i = 0; i < runs; i++) {
            pool.forRange(pool.threads(), body);
        }
        return (System.nanoTime() - t0) / 1e9 / runs;
    }

    /**
     * A matrix of {@code rows} rows of 4,096 in {@code type}, written to a temporary file and mapped
     * read-only as a model's weights are (file pages, not anonymous memory); the file is deleted at once.
     */
    private static Tensor matrix(Arena arena, GgmlType type, int rows) {
        int rowBytes = Math.toIntExact(type.bytesFor(ROW));
        SplittableRandom random = new SplittableRandom(7);
        ByteBuffer distinct = ByteBuffer.allocate(DISTINCT_ROWS * rowBytes).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < DISTINCT_ROWS; i++) {
            float[] x = new float[ROW];
            for (int j = 0; j < ROW; j++) {
                x[j] = (float) (random.nextDouble(-1, 1) * 0.035); // standard deviation 0.02, as synthetic weights
            }
            Quantizer.quantize(type, x, 0, ROW, distinct.slice(i * rowBytes, rowBytes));
        }
        try {
            Path file = Files.createTempFile("memwall-profile-", ".bin");
            try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
                for (int r = 0; r < rows; r += DISTINCT_ROWS) {
                    ByteBuffer b = distinct.duplicate().limit(Math.min(DISTINCT_ROWS, rows - r) * rowBytes);
                    while (b.hasRemaining()) {
                        ch.write(b);
                    }
                }
                MemorySegment data = ch.map(FileChannel.MapMode.READ_ONLY, 0, (long) rows * rowBytes, arena);
                return new Tensor("profile." + type, type, new long[] {ROW, rows}, data);
            } finally {
                Files.delete(file);
            }
        } catch (IOException e) {
            throw new MemwallException("cannot write the measurement matrix to a temporary file: " + e.getMessage(), e);
        }
    }

    private static float[] activations(int tokens) {
        float[] x = new float[tokens * ROW];
        SplittableRandom random = new SplittableRandom(11);
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) random.nextDouble(-1, 1);
        }
        return x;
    }

    private static long physicalMemory() {
        if (ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os) {
            return os.getTotalMemorySize();
        }
        return Runtime.getRuntime().maxMemory();
    }
}
