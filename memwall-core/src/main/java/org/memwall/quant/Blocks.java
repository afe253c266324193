package org.memwall.quant;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * What the block kernels share: the vector species, little-endian unaligned layouts, f16 scales,
 * nibble lanes and the K-quant 6-bit scale unpacking.
 *
 * <p>Kernels walk quant bytes {@link #L} at a time, one byte per float lane, and turn each byte vector
 * into one float vector. With 256- or 512-bit floats (AVX2, AVX-512) the byte vector is exactly L
 * bytes; with 128-bit floats (NEON) no 4-byte vector exists, so the 8-byte vector is loaded with its
 * upper half masked off: it never reads past the block, and no lane shuffle is needed afterwards.
 */
final class Blocks {
    static final ValueLayout.OfByte U8 = ValueLayout.JAVA_BYTE;
    static final ValueLayout.OfShort SHORT_LE = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfChar CHAR_LE = ValueLayout.JAVA_CHAR_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfFloat FLOAT_LE = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfInt INT_LE = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfLong LONG_LE = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    /**
     * Float lanes: the preferred shape, clamped to 128..512 bits: at most 16 lanes so that a 16-weight
     * sub-block spans whole vectors, at least 4 so that matching byte and short vectors exist.
     */
    static final VectorSpecies<Float> F = VectorSpecies.of(float.class, VectorShape.forBitSize(
            Math.clamp(FloatVector.SPECIES_PREFERRED.vectorBitSize(), 128, 512)));
    static final int L = F.length();
    /** Byte vectors: L lanes, or the smallest (64-bit, 8-lane) byte vector when L is 4. */
    static final VectorSpecies<Byte> B = VectorSpecies.of(byte.class, VectorShape.forBitSize(Math.max(64, L * 8)));
    /** 16-bit values widened to 32-bit lanes, L at a time (F16, BF16). */
    private static final VectorSpecies<Short> S = VectorSpecies.of(short.class, VectorShape.forBitSize(L * 16));
    private static final VectorSpecies<Integer> I = F.withLanes(int.class);
    /** Whether byte vectors have more lanes than L, so loads must mask the rest. */
    private static final boolean MASKED = B.length() > L;
    private static final VectorMask<Byte> FIRST_L = B.indexInRange(0, L);

    /**
     * Every IEEE half as a float, indexed by its bits (256 KiB). A scale read through the table is one
     * load, and the kernels' {@code broadcast} of it becomes a broadcast from memory, which takes no
     * vector ALU slot; converting in registers ({@code vcvtph2ps}) and broadcasting from a register
     * took four of the ~16 vector operations per Q4_0 block, on the two ports that run all 512-bit
     * work. Same bits as {@link Float#float16ToFloat}, which fills the table.
     */
    private static final float[] HALF = new float[1 << 16];

    static {
        for (int h = 0; h < HALF.length; h++) {
            HALF[h] = Float.float16ToFloat((short) h);
        }
    }

    private Blocks() {
    }

    /** An IEEE half at {@code offset} (the d / dmin / m scales of most formats). */
    static float f16(MemorySegment w, long offset) {
        return HALF[w.get(CHAR_LE, offset)];
    }

    static int u8(MemorySegment w, long offset) {
        return w.get(U8, offset) & 0xFF;
    }

    /** The {@link #L} bytes at {@code offset} in lanes 0..L−1 (any further lanes are zero). */
    static ByteVector bytes(MemorySegment w, long offset) {
        return MASKED
                ? ByteVector.fromMemorySegment(B, w, offset, ByteOrder.LITTLE_ENDIAN, FIRST_L)
                : ByteVector.fromMemorySegment(B, w, offset, ByteOrder.LITTLE_ENDIAN);
    }

    /**
     * The low ({@code shift} 0) or high ({@code shift} 4) nibbles of the {@link #L} bytes at
     * {@code offset}, as floats 0..15. Computed in 32-bit lanes (the bytes widened once): AVX2 has no
     * byte shift, which the JIT emulates with several operations; with 16 lanes the byte operations on
     * one 128-bit register are cheaper, and the kernels there use {@link #shiftRight}.
     */
    static FloatVector nibbles(MemorySegment w, long offset, int shift) {
        IntVector q = widened(w, offset);
        return shift == 0 ? low(q) : high(q);
    }

    /** The {@link #L} bytes at {@code offset}, zero-extended to 32-bit lanes (for {@link #low(IntVector)}, {@link #high(IntVector)}). */
    static IntVector widened(MemorySegment w, long offset) {
        return (IntVector) bytes(w, offset).convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0);
    }

    /** The low nibbles of {@link #widened} bytes, as floats 0..15. */
    static FloatVector low(IntVector q) {
        return (FloatVector) q.and(0x0F).convert(VectorOperators.I2F, 0);
    }

    /** The high nibbles of {@link #widened} bytes, as floats 0..15. */
    static FloatVector high(IntVector q) {
        return (FloatVector) q.lanewise(VectorOperators.LSHR, 4).convert(VectorOperators.I2F, 0);
    }

    /** Lanes 0..L−1 of {@code q}, read as signed bytes, as floats. */
    static FloatVector floats(ByteVector q) {
        return (FloatVector) q.convertShape(VectorOperators.B2F, F, 0);
    }

    /** The L little-endian 16-bit values at {@code offset}, sign-extended to 32-bit lanes. */
    static IntVector shorts(MemorySegment w, long offset) {
        return (IntVector) ShortVector.fromMemorySegment(S, w, offset, ByteOrder.LITTLE_ENDIAN)
                .convertShape(VectorOperators.S2I, I, 0);
    }

    static FloatVector x(float[] x, int offset) {
        return FloatVector.fromArray(F, x, offset);
    }

    /** Low nibble of each byte (0..15). */
    static ByteVector low(ByteVector v) {
        return v.and((byte) 0x0F);
    }

    /** High nibble of each byte (0..15). */
    static ByteVector high(ByteVector v) {
        return shiftRight(v, 4, 0x0F);
    }

    /*
     * Byte lanes have no native shift on x86 (the JIT widens, shifts and narrows again), 32-bit lanes
     * do. Shifting the same bits as 32-bit lanes moves bits across byte boundaries; a mask that only
     * keeps bits which stayed inside their own byte gives the byte-wise result.
     */

    /** Per byte {@code (v >>> shift) & mask}; mask must fit in the low 8 − shift bits. */
    static ByteVector shiftRight(ByteVector v, int shift, int mask) {
        return v.reinterpretAsInts().lanewise(VectorOperators.LSHR, shift).reinterpretAsBytes().and((byte) mask);
    }

    /**
     * Per byte: bits {@code [from, from + width)} of v moved to {@code [to, to + width)}, all other bits
     * cleared. A shift of the 32-bit lanes (left when {@code to > from}, right otherwise) brings the
     * neighbouring byte's bits only into positions the mask clears, in either direction. A shift, not a
     * rotation: AVX2 has no vector rotate, and the JIT emulates one with three operations.
     */
    static ByteVector moveBits(ByteVector v, int from, int to, int width) {
        IntVector words = v.reinterpretAsInts();
        IntVector moved = to >= from
                ? words.lanewise(VectorOperators.LSHL, to - from)
                : words.lanewise(VectorOperators.LSHR, from - to);
        return moved.reinterpretAsBytes().and((byte) (((1 << width) - 1) << to));
    }

    /** {@code table[idx]} for each lane; {@code table} has 16 entries and every lane of idx is 0..15. */
    static ByteVector lookup16(ByteVector idx, byte[] table) {
        if (B.length() == 16) {
            return idx.selectFrom(ByteVector.fromArray(B, table, 0));
        }
        // 8-byte vectors: indexes 8..15 select from the second half of the table.
        return idx.selectFrom(ByteVector.fromArray(B, table, 0), ByteVector.fromArray(B, table, 8));
    }

    /*
     * Q4_K / Q5_K scales[12] = bytes b[0..11]: eight 6-bit scales sc[s] and eight 6-bit mins mn[s].
     * s < 4: sc = b[s] & 63, mn = b[s+4] & 63 (the top two bits of b[0..7] are spare);
     * s ≥ 4: sc = (b[s+4] & 15) | ((b[s-4] >> 6) << 4), mn = (b[s+4] >> 4) | ((b[s] >> 6) << 4).
     * Read as three little-endian words a0 = b[0..3], a1 = b[4..7], a2 = b[8..11], four sub-blocks at
     * a time come out of a few word operations, one scale (or min) per byte.
     */

    /** sc[0..3] (upper = false) or sc[4..7] (upper = true), byte k holding sub-block 4·upper + k. */
    static int scalesK4(int a0, int a2, boolean upper) {
        return upper ? (a2 & 0x0F0F0F0F) | ((a0 >>> 2) & 0x30303030) : a0 & 0x3F3F3F3F;
    }

    /** mn[0..3] (upper = false) or mn[4..7] (upper = true), byte k holding sub-block 4·upper + k. */
    static int minsK4(int a1, int a2, boolean upper) {
        return upper ? ((a2 >>> 4) & 0x0F0F0F0F) | ((a1 >>> 2) & 0x30303030) : a1 & 0x3F3F3F3F;
    }

    /** Byte {@code k} (0..3) of {@code word}, unsigned. */
    static int byteOf(int word, int k) {
        return (word >>> (8 * k)) & 0xFF;
    }
}
