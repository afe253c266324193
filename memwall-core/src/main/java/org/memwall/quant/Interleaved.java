package org.memwall.quant;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;
import org.memwall.gguf.GgmlType;

/**
 * A weight matrix repacked once at load for the CPU: {@link #ROWS} rows interleaved, so that one
 * 256-bit register holds the same weight of eight rows, one lane per row. A product broadcasts an
 * activation and takes one fused multiply-add for eight rows: no horizontal sum, and each register of
 * decoded weights serves every token of a tile.
 *
 * <p><b>The canonical dot</b> of the interleaved formats is sequential: {@code acc = fma(w[k], x[k], acc)}
 * for k = 0 .. n−1 in order, from acc = 0, where w[k] is the weight exactly as
 * {@link QuantFormat#dequantize} writes it. Each lane accumulates its own row in that order whatever the
 * number of tokens or rows in a tile, so a token's outputs are the same bits alone, batched, or computed
 * by {@link #referenceDot} one scalar at a time.
 *
 * <p>Row group g (rows 8g .. 8g + 7) is stored contiguously, {@link #groupBytes} long, aligned to 64
 * bytes; rows past the matrix are zero. Each format's class documents its group layout and holds its
 * kernels: {@link #multiply} computes a range of row groups for a range of tokens, in register tiles of
 * one token by four row groups (decode: four independent accumulator chains) and of {@link #TILE_TOKENS}
 * tokens by one row group (prefill, batched decode).
 */
public abstract sealed class Interleaved permits InterleavedQ4_0, InterleavedQ8_0, InterleavedQ4_K, InterleavedQ6_K {
    /** Rows per group: the lanes of a 256-bit float vector. */
    public static final int ROWS = 8;
    /** Tokens per prefill tile: eight accumulators (32 registers with AVX-512 would allow more; measured first here). */
    static final int TILE_TOKENS = 8;

    static final VectorSpecies<Float> F8 = FloatVector.SPECIES_256;
    static final VectorSpecies<Integer> I8 = IntVector.SPECIES_256;
    static final VectorSpecies<Byte> B8 = ByteVector.SPECIES_64;
    static final ValueLayout.OfInt INT = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfFloat FLOAT = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    /** Decoded weights of the groups being multiplied, per thread. */
    private static final AlignedBuffer DECODED = new AlignedBuffer();

    /** Whether this machine's vectors are wide enough for eight float lanes in one register. */
    public static final boolean AVAILABLE = FloatVector.SPECIES_PREFERRED.vectorBitSize() >= 256;

    final MemorySegment data;
    final int rows;
    final int n;
    final long groupBytes;

    Interleaved(int rows, int n, long groupBytes) {
        this.rows = rows;
        this.n = n;
        this.groupBytes = groupBytes;
        this.data = Arena.ofAuto().allocate(groups() * groupBytes, 64);
    }

    /** An empty interleaved copy for {@code rows} rows of {@code n} elements of {@code type}, or null when that format is kept in its file layout. */
    public static Interleaved allocate(GgmlType type, int rows, int n) {
        if (!AVAILABLE) {
            return null;
        }
        return switch (type) {
            case Q4_0 -> new InterleavedQ4_0(rows, n);
            case Q8_0 -> new InterleavedQ8_0(rows, n);
            case Q4_K -> new InterleavedQ4_K(rows, n);
            case Q6_K -> new InterleavedQ6_K(rows, n);
            default -> null;
        };
    }

    public final int groups() {
        return (rows + ROWS - 1) / ROWS;
    }

    public final long byteSize() {
        return data.byteSize();
    }

    /** Repacks row groups [from, to) from {@code file}, the matrix in its file layout (row r at element r·n). */
    public abstract void pack(MemorySegment file, int from, int to);

    /**
     * Writes weights [k0, k0 + len) of row group g as floats, exactly as {@link QuantFormat#dequantize}
     * computes them, interleaved: weight k of the group's row i at float {@code 8(k − k0) + i} of
     * {@code s[offset ..]}. k0 and len are multiples of {@link #piece}.
     */
    abstract void decode(int g, int k0, int len, MemorySegment s, long offset);

    /** Elements decoded at a time by the one-token tiles: a whole number of the format's blocks. */
    abstract int piece();

    /**
     * {@code out[t·stride + r − first] = row r · x[t·n ..]} for the rows r in [first, first + count) of row
     * groups [from, to) and tokens t in [t0, t1) (the groups' other rows belong to no output).
     * One token: four row groups decoded a piece at a time and multiplied together (four independent
     * accumulator chains); several: each row group decoded once, then tiles of {@link #TILE_TOKENS} tokens.
     */
    public final void multiply(int from, int to, int first, int count, float[] x, int t0, int t1, float[] out, int stride) {
        if (t1 - t0 == 1) {
            oneToken(from, to, first, count, x, t0, out, stride);
            return;
        }
        MemorySegment s = DECODED.get((long) ROWS * n);
        for (int g = from; g < to; g++) {
            decode(g, 0, n, s, 0);
            int row = ROWS * g - first;
            int t = t0;
            for (; t + TILE_TOKENS <= t1; t += TILE_TOKENS) {
                Tiles8.tile1x8(s, n, x, t * n, out, t * stride + row, stride, -row, count - row);
            }
            for (; t < t1; t++) {
                store(Tiles8.row(s, 0, n, x, t * n, FloatVector.zero(F8)), out, t * stride + row, -row, count - row);
            }
        }
    }

    private void oneToken(int from, int to, int first, int count, float[] x, int t, float[] out, int stride) {
        int p = piece();
        long groupFloats = (long) ROWS * p;
        MemorySegment s = DECODED.get(4 * groupFloats);
        int xo = t * n;
        int o = t * stride;
        int g = from;
        for (; g + 4 <= to; g += 4) {
            FloatVector a0 = FloatVector.zero(F8), a1 = a0, a2 = a0, a3 = a0;
            for (int k0 = 0; k0 < n; k0 += p) {
                for (int j = 0; j < 4; j++) {
                    decode(g + j, k0, p, s, 4 * j * groupFloats);
                }
                long q = 4 * groupFloats;
                for (int k = 0; k < p; k++) {
                    FloatVector xb = x(x, xo + k0 + k);
                    long at = 32L * k;
                    a0 = floats(s, at).fma(xb, a0);
                    a1 = floats(s, at + q).fma(xb, a1);
                    a2 = floats(s, at + 2 * q).fma(xb, a2);
                    a3 = floats(s, at + 3 * q).fma(xb, a3);
                }
            }
            int row = ROWS * g - first;
            store(a0, out, o + row, -row, count - row);
            store(a1, out, o + row + 8, -row - 8, count - row - 8);
            store(a2, out, o + row + 16, -row - 16, count - row - 16);
            store(a3, out, o + row + 24, -row - 24, count - row - 24);
        }
        for (; g < to; g++) {
            FloatVector a = FloatVector.zero(F8);
            for (int k0 = 0; k0 < n; k0 += p) {
                decode(g, k0, p, s, 0);
                a = Tiles8.row(s, 0, p, x, xo + k0, a);
            }
            int row = ROWS * g - first;
            store(a, out, o + row, -row, count - row);
        }
    }

    /** The canonical dot of row {@code row} with {@code x[xOffset ..]}, one scalar fused multiply-add at a time, from the file layout. */
    public static float referenceDot(QuantFormat f, MemorySegment file, int row, int n, float[] x, int xOffset) {
        float[] w = new float[n];
        f.dequantize(file, (long) row * n, w, 0, n);
        float acc = 0;
        for (int k = 0; k < n; k++) {
            acc = Math.fma(w[k], x[xOffset + k], acc);
        }
        return acc;
    }

    // --- what the formats' kernels share ---

    static FloatVector floats(MemorySegment p, long offset) {
        return FloatVector.fromMemorySegment(F8, p, offset, ByteOrder.LITTLE_ENDIAN);
    }

    static IntVector ints(MemorySegment p, long offset) {
        return IntVector.fromMemorySegment(I8, p, offset, ByteOrder.LITTLE_ENDIAN);
    }

    /** Eight signed bytes (one per row) widened to floats. */
    static FloatVector signedBytes(MemorySegment p, long offset) {
        return (FloatVector) ByteVector.fromMemorySegment(B8, p, offset, ByteOrder.LITTLE_ENDIAN).convertShape(VectorOperators.B2F, F8, 0);
    }

    /** Bits [32 − bits − shl .. 32 − shl) of each lane, sign-extended (signed) or not, as floats. */
    static FloatVector field(IntVector v, int shl, int bits, boolean signed) {
        IntVector up = shl == 0 ? v : v.lanewise(VectorOperators.LSHL, shl);
        return (FloatVector) up.lanewise(signed ? VectorOperators.ASHR : VectorOperators.LSHR, 32 - bits).convert(VectorOperators.I2F, 0);
    }

    static FloatVector x(float[] x, int index) {
        return FloatVector.broadcast(F8, x[index]);
    }

    /** Stores lanes [from, to) of acc (clamped to the eight lanes) at out[offset + lane]. */
    static void store(FloatVector acc, float[] out, int offset, int from, int to) {
        if (from <= 0 && to >= ROWS) {
            acc.intoArray(out, offset);
        } else if (from < to && to > 0 && from < ROWS) {
            acc.intoArray(out, offset, F8.indexInRange(-from, to - from));
        }
    }

}
