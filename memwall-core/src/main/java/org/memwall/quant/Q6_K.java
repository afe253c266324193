package org.memwall.quant;

import static org.memwall.quant.Blocks.F;
import static org.memwall.quant.Blocks.L;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;
import org.memwall.gguf.GgmlType;

/**
 * Q6_K: 256 weights in 210 bytes, sixteen sub-blocks of 16 with an 8-bit scale each.
 * <pre>
 * bytes 0..127    ql[128]     low 4 bits
 * bytes 128..191  qh[64]      high 2 bits, four weights per byte
 * bytes 192..207  scales[16]  int8 sub-block scales
 * bytes 208..209  d           f16 super-scale
 * Two halves h = 0, 1 of 128 weights use ql[64h..], qh[32h..], scales[8h..]; for l = 0..31:
 *   weight l      : ql[l] low nibble    | (qh[l] bits 0-1) &lt;&lt; 4, scale sc[l/16]
 *   weight l + 32 : ql[l+32] low nibble | (qh[l] bits 2-3) &lt;&lt; 4, scale sc[l/16 + 2]
 *   weight l + 64 : ql[l] high nibble   | (qh[l] bits 4-5) &lt;&lt; 4, scale sc[l/16 + 4]
 *   weight l + 96 : ql[l+32] high nibble| (qh[l] bits 6-7) &lt;&lt; 4, scale sc[l/16 + 6]
 * weight = d · sc · (q − 32)
 * </pre>
 */
public final class Q6_K implements QuantFormat {
    private static final int BLOCK = 256;
    private static final int BYTES = 210;
    /** Per-thread room for a block's sixteen scales d·sc[i]: the fused dot runs once per row, allocating nothing. */
    private static final ThreadBuffer SCALES = new ThreadBuffer();

    @Override
    public GgmlType type() {
        return GgmlType.Q6_K;
    }

    @Override
    public void dequantize(MemorySegment w, long first, float[] out, int outOffset, int n) {
        long block = first / BLOCK * BYTES;
        for (int e = 0; e < n; e += BLOCK, block += BYTES) {
            float d = Blocks.f16(w, block + 208);
            for (int h = 0; h < 2; h++) {
                long scales = w.get(Blocks.LONG_LE, block + 192 + 8 * h); // this half's sc[0..7], one per byte
                for (int t = 0; t < 4; t++) {
                    for (int l = 0; l < 32; l += L) {
                        chunk(w, block, h, t, l, d, scales).intoArray(out, outOffset + e + 128 * h + 32 * t + l);
                    }
                }
            }
        }
    }

    /**
     * Weights 128h + 32t + l .. + L − 1 of the block, as every kernel computes them: nibble t / 2 of
     * ql[64h + l + 32·(t % 2)], bits 2t..2t+1 of qh[32h + l], scale d·sc[8h + l / 16 + 2t] (byte
     * l / 16 + 2t of this half's {@code scales}).
     */
    private static FloatVector chunk(MemorySegment w, long block, int h, int t, int l, float d, long scales) {
        return grid(w, block, h, t, l).mul(FloatVector.broadcast(F, d * (byte) (scales >> (8 * (l / 16 + 2 * t)))));
    }

    /** The signed 6-bit values q − 32 of those weights, as floats. */
    private static FloatVector grid(MemorySegment w, long block, int h, int t, int l) {
        ByteVector low4 = Blocks.shiftRight(Blocks.bytes(w, block + 64 * h + l + 32 * (t & 1)), 4 * (t >> 1), 0x0F);
        return Blocks.floats(low4.or(Blocks.moveBits(Blocks.bytes(w, block + 128 + 32 * h + l), 2 * t, 4, 2)).sub((byte) 32));
    }

    /**
     * The canonical dot, fused. The block's sixteen scales are converted by 16 / L vector multiplies
     * into a per-thread array first; each chunk then decodes its
     * 6-bit values as {@link #chunk} does and multiplies by a scale read from there.
     */
    @Override
    public float dot(MemorySegment w, long first, float[] x, int xOffset, int n) {
        if (L == 8) {
            return dot8(w, first, x, xOffset, n);
        }
        long b = first / BLOCK * BYTES;
        float[] scales = SCALES.get(16);
        FloatVector acc = FloatVector.zero(F);
        for (int e = 0; e < n; e += BLOCK, b += BYTES) {
            FloatVector d = FloatVector.broadcast(F, Blocks.f16(w, b + 208));
            for (int k = 0; k < 16; k += L) {
                Blocks.floats(Blocks.bytes(w, b + 192 + k)).mul(d).intoArray(scales, k);
            }
            for (int h = 0; h < 2; h++) {
                for (int t = 0; t < 4; t++) {
                    for (int l = 0; l < 32; l += L) {
                        acc = grid(w, b, h, t, l).mul(FloatVector.broadcast(F, scales[8 * h + l / 16 + 2 * t]))
                                .fma(Blocks.x(x, xOffset + e + 128 * h + 32 * t + l), acc);
                    }
                }
            }
        }
        return Kernels.sum(acc);
    }

    private static final VectorSpecies<Byte> B32 = ByteVector.SPECIES_256;
    /** Per-thread room for one block's 256 values q − 32 (the 8-lane kernel). */
    private static final ThreadLocal<byte[]> VALUES = ThreadLocal.withInitial(() -> new byte[BLOCK]);

    /**
     * The canonical dot with 8 lanes (AVX2), in two passes per block. First the 6-bit values of all 256
     * weights, q − 32 as bytes, 32 at a time by 32-byte operations into a per-thread array (each
     * (h, t) group as {@link #grid} computes it 8 at a time; the bit operations act on 32-bit lanes, as
     * {@link Blocks#shiftRight} and {@link Blocks#moveBits} do, written out because the JIT would not
     * inline those here); then the chunks in element order, each 8 bytes widened to floats, scaled and
     * added as in {@link #dot}. By count, 6 byte operations per 32 weights instead of 6 per 8.
     */
    private static float dot8(MemorySegment w, long first, float[] x, int xOffset, int n) {
        long b = first / BLOCK * BYTES;
        float[] scales = SCALES.get(16);
        byte[] values = VALUES.get();
        FloatVector acc = FloatVector.zero(F);
        for (int e = 0; e < n; e += BLOCK, b += BYTES) {
            FloatVector d = FloatVector.broadcast(F, Blocks.f16(w, b + 208));
            Blocks.floats(Blocks.bytes(w, b + 192)).mul(d).intoArray(scales, 0);
            Blocks.floats(Blocks.bytes(w, b + 200)).mul(d).intoArray(scales, 8);
            for (int h = 0; h < 2; h++) {
                IntVector qh = ByteVector.fromMemorySegment(B32, w, b + 128 + 32 * h, ByteOrder.LITTLE_ENDIAN).reinterpretAsInts();
                for (int t = 0; t < 4; t++) {
                    IntVector ql = ByteVector.fromMemorySegment(B32, w, b + 64 * h + 32 * (t & 1), ByteOrder.LITTLE_ENDIAN).reinterpretAsInts();
                    IntVector low4 = ql.lanewise(VectorOperators.LSHR, 4 * (t >> 1)).and(0x0F0F0F0F);
                    IntVector high2 = (t < 2 ? qh.lanewise(VectorOperators.LSHL, 4 - 2 * t) : qh.lanewise(VectorOperators.LSHR, 2 * t - 4))
                            .and(0x30303030);
                    low4.or(high2).reinterpretAsBytes().sub((byte) 32).intoArray(values, 128 * h + 32 * t);
                }
            }
            for (int c = 0; c < BLOCK; c += 8) {
                acc = Blocks.floats(ByteVector.fromArray(Blocks.B, values, c)).mul(FloatVector.broadcast(F, scales[c >> 4]))
                        .fma(Blocks.x(x, xOffset + e + c), acc);
            }
        }
        return Kernels.sum(acc);
    }
}
