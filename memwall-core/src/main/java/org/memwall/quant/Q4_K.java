package org.memwall.quant;

import static org.memwall.quant.Blocks.F;
import static org.memwall.quant.Blocks.L;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;
import org.memwall.gguf.GgmlType;

/**
 * Q4_K: 256 weights in 144 bytes, eight sub-blocks of 32 with their own 6-bit scale and min.
 * <pre>
 * bytes 0..1     d           f16 super-scale of the sub-block scales
 * bytes 2..3     dmin        f16 super-scale of the sub-block mins
 * bytes 4..15    scales[12]  sc[s], mn[s] for s = 0..7, 6 bits each (see {@link Blocks#scalesK4})
 * bytes 16..143  qs[128]     four chunks c of 32 bytes: weights 64c..64c+31 (sub-block 2c) in the low
 *                            nibbles, weights 64c+32..64c+63 (sub-block 2c+1) in the high nibbles
 * weight = d·sc[s] · nibble − dmin·mn[s]   (weights 32s..32s+31 form sub-block s), computed as one
 *          fused multiply-add, as llama.cpp's x86 builds compute it
 * </pre>
 */
public final class Q4_K implements QuantFormat {
    private static final int BLOCK = 256;
    /** Per-thread room for a block's scales and mins: the kernels run once per row, allocating nothing. */
    private static final ThreadBuffer SCALES = new ThreadBuffer();

    @Override
    public GgmlType type() {
        return GgmlType.Q4_K;
    }

    @Override
    public void dequantize(MemorySegment w, long first, float[] out, int outOffset, int n) {
        dequantize(w, first, out, outOffset, n, false);
    }

    /*
     * Shared with Q5_K, which is this layout with qh[32] (the 5th bits) inserted before qs: 176 bytes,
     * qh at 16, qs at 48. Sub-block s (0..7) holds weights 32s..32s+31: nibble s % 2 of
     * qs[32·(s / 2) + l] and, in Q5_K, bit s of qh[l] as the value 16.
     */

    static void dequantize(MemorySegment w, long first, float[] out, int outOffset, int n, boolean fifthBit) {
        int bytes = fifthBit ? 176 : 144;
        long block = first / BLOCK * bytes;
        float[] sm = SCALES.get(16);
        for (int e = 0; e < n; e += BLOCK, block += bytes) {
            scalesAndMins(w, block, sm);
            for (int s = 0; s < 8; s++) {
                FloatVector scale = FloatVector.broadcast(F, sm[s]);
                FloatVector negMin = FloatVector.broadcast(F, sm[8 + s]);
                for (int l = 0; l < 32; l += L) {
                    q(w, block, s, l, fifthBit).fma(scale, negMin).intoArray(out, outOffset + e + 32 * s + l);
                }
            }
        }
    }

    /**
     * The canonical dot, fused: one sub-block of 32 weights (32 / L chunks) per step, its nibbles chosen
     * by a shift (in 32-bit lanes below 16 lanes: {@link Blocks#nibbles}), the block's scales unpacked
     * first (by 16-lane vector operations where floats have 16 lanes, field by field otherwise), two
     * bytes a page ahead touched per block ({@link Prefetch}). Kept this small on purpose: each variant
     * with more in its loop (both nibbles of a byte decoded in one step, the two chunks of a sub-block
     * written out) or one more call level under the decode task outgrew the JIT's inlining limits in the
     * model, and its vectors ended up boxed on the heap.
     */
    @Override
    public float dot(MemorySegment w, long first, float[] x, int xOffset, int n) {
        long b = first / BLOCK * 144;
        float[] sm = SCALES.get(16);
        FloatVector acc = FloatVector.zero(F);
        int touched = 0;
        for (int e = 0; e < n; e += BLOCK, b += 144) {
            touched += Prefetch.touch(w, b) + Prefetch.touch(w, b + 72);
            if (L == 16) {
                vectorScalesAndMins(w, b, sm);
            } else {
                scalesAndMins(w, b, sm);
            }
            for (int s = 0; s < 8; s++) {
                long qs = b + 16 + 32 * (s >> 1);
                int shift = 4 * (s & 1);
                int xs = xOffset + e + 32 * s;
                FloatVector scale = FloatVector.broadcast(F, sm[s]);
                FloatVector negMin = FloatVector.broadcast(F, sm[8 + s]);
                for (int l = 0; l < 32; l += L) {
                    FloatVector q = L == 16
                            ? Blocks.floats(Blocks.shiftRight(Blocks.bytes(w, qs + l), shift, 0x0F))
                            : Blocks.nibbles(w, qs + l, shift);
                    acc = q.fma(scale, negMin).fma(Blocks.x(x, xs + l), acc);
                }
            }
        }
        Prefetch.keep(touched);
        return Kernels.sum(acc);
    }

    /**
     * Q5_K's canonical dot, fused as {@link #dot} is: each chunk decoded as {@link #dequantize} writes it
     * (the nibble and the fifth bit, {@link #q}), scaled by one fused multiply-add and added in element
     * order, never stored. The generic kernel decoded a piece into memory and read it back.
     */
    static float dotFifthBit(MemorySegment w, long first, float[] x, int xOffset, int n) {
        long b = first / BLOCK * 176;
        float[] sm = SCALES.get(16);
        FloatVector acc = FloatVector.zero(F);
        for (int e = 0; e < n; e += BLOCK, b += 176) {
            if (L == 16) {
                vectorScalesAndMins(w, b, sm);
            } else {
                scalesAndMins(w, b, sm);
            }
            for (int s = 0; s < 8; s++) {
                int xs = xOffset + e + 32 * s;
                FloatVector scale = FloatVector.broadcast(F, sm[s]);
                FloatVector negMin = FloatVector.broadcast(F, sm[8 + s]);
                for (int l = 0; l < 32; l += L) {
                    acc = q(w, b, s, l, true).fma(scale, negMin).fma(Blocks.x(x, xs + l), acc);
                }
            }
        }
        return Kernels.sum(acc);
    }

    /*
     * The vector unpacking of scales[12] (16 lanes: sc[0..7], then mn[0..7]): each lane takes its low
     * bits from one byte (shifted, masked) and, for sub-blocks 4..7, bits 4..5 from the top two bits of
     * another; lanes 0..3 and 8..11 mask the second byte away. See Blocks#scalesK4 for the layout.
     */
    private static final VectorSpecies<Integer> I16 = IntVector.SPECIES_512;
    private static final VectorShuffle<Integer> LOW_BYTE = VectorShuffle.fromValues(I16,
            4, 5, 6, 7, 12, 13, 14, 15, 8, 9, 10, 11, 12, 13, 14, 15);
    private static final IntVector LOW_SHIFT = IntVector.fromArray(I16, new int[] {
            0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 4, 4, 4, 4}, 0);
    private static final IntVector LOW_MASK = IntVector.fromArray(I16, new int[] {
            63, 63, 63, 63, 15, 15, 15, 15, 63, 63, 63, 63, 15, 15, 15, 15}, 0);
    private static final VectorShuffle<Integer> HIGH_BYTE = VectorShuffle.fromValues(I16,
            0, 0, 0, 0, 4, 5, 6, 7, 0, 0, 0, 0, 8, 9, 10, 11);
    private static final IntVector HIGH_MASK = IntVector.fromArray(I16, new int[] {
            0, 0, 0, 0, 0x30, 0x30, 0x30, 0x30, 0, 0, 0, 0, 0x30, 0x30, 0x30, 0x30}, 0);
    private static final VectorMask<Float> MINS = VectorMask.fromLong(FloatVector.SPECIES_512, 0xFF00L);

    /**
     * The block's eight d·sc[s] into {@code sm[0..8)} and eight −dmin·mn[s] into {@code sm[8..16)}, by a
     * few 16-lane vector operations: a third of the cost of {@link #scalesAndMins}, the same values.
     * Only the fused dot uses it; in {@link #dequantize} (once per row for many tokens) it would only
     * add to the inlining budget of the tile kernels.
     */
    private static void vectorScalesAndMins(MemorySegment w, long block, float[] sm) {
        IntVector b = (IntVector) ByteVector.fromMemorySegment(ByteVector.SPECIES_128, w, block, ByteOrder.LITTLE_ENDIAN)
                .convertShape(VectorOperators.ZERO_EXTEND_B2I, I16, 0);
        IntVector q = b.rearrange(LOW_BYTE).lanewise(VectorOperators.LSHR, LOW_SHIFT).and(LOW_MASK)
                .or(b.rearrange(HIGH_BYTE).lanewise(VectorOperators.LSHR, 2).and(HIGH_MASK));
        FloatVector d = FloatVector.broadcast(FloatVector.SPECIES_512, Blocks.f16(w, block)).blend(-Blocks.f16(w, block + 2), MINS);
        ((FloatVector) q.convert(VectorOperators.I2F, 0)).mul(d).intoArray(sm, 0);
    }

    /** The block's eight d·sc[s] into {@code sm[0..8)} and eight −dmin·mn[s] into {@code sm[8..16)}. */
    private static void scalesAndMins(MemorySegment w, long block, float[] sm) {
        float d = Blocks.f16(w, block);
        float negDmin = -Blocks.f16(w, block + 2);
        int a0 = w.get(Blocks.INT_LE, block + 4);
        int a1 = w.get(Blocks.INT_LE, block + 8);
        int a2 = w.get(Blocks.INT_LE, block + 12);
        for (int half = 0; half < 2; half++) {
            int sc = Blocks.scalesK4(a0, a2, half == 1);
            int mn = Blocks.minsK4(a1, a2, half == 1);
            for (int k = 0; k < 4; k++) {
                sm[4 * half + k] = d * Blocks.byteOf(sc, k);
                sm[8 + 4 * half + k] = negDmin * Blocks.byteOf(mn, k);
            }
        }
    }

    /** The grid values (0..15, Q5_K 0..31) of weights 32s + l .. 32s + l + L − 1 of the block, as floats. */
    private static FloatVector q(MemorySegment w, long block, int s, int l, boolean fifthBit) {
        long qs = block + (fifthBit ? 48 : 16) + 32 * (s >> 1);
        ByteVector q = Blocks.shiftRight(Blocks.bytes(w, qs + l), 4 * (s & 1), 0x0F);
        if (fifthBit) {
            q = q.or(Blocks.moveBits(Blocks.bytes(w, block + 16 + l), s, 4, 1));
        }
        return Blocks.floats(q);
    }
}
