package org.memwall.quant;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.function.IntUnaryOperator;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;

/**
 * The interleaved layout of the 4-bit formats with one scale per block of 32 (Q4_0, MXFP4): per row group, per block,
 * five vectors of V = 4·ROWS bytes.
 * <pre>
 * vector 0        the block's scale of each row, f32, row i in lane i
 * vectors 1..4    16-bit lanes; vector 1 + c, lane 2i + p holds weights 8c + 2m + p (m = 0..3) of row i, weight
 *                 8c + 2m + p's 4-bit code at bits 4m..4m+3 (the file's nibbles: weight j of a block is the low
 *                 nibble of qs[j] for j &lt; 16, the high nibble of qs[j − 16] above)
 * </pre>
 * Each format gives its scale and the value of a code ({@link #nibbleBlockSums}'s {@code values}); the tiles for
 * several tokens read the scales from the copy.
 */
abstract sealed class Block32Interleaved extends IntegerInterleaved permits InterleavedQ4_0, InterleavedMXFP4 {
    static final int BYTES = 5 * V;
    private final int fileBytes;
    private final int qsOffset;

    /** {@code fileBytes} per block in the file, its qs[16] at {@code qsOffset}; {@code data} as {@link Interleaved}'s. */
    Block32Interleaved(int rows, int n, int fileBytes, int qsOffset, MemorySegment data) {
        super(rows, n, (long) n / 32 * BYTES, data);
        this.fileBytes = fileBytes;
        this.qsOffset = qsOffset;
    }

    /** The scale of the file's block at {@code row[src ..]}. */
    abstract float scale(byte[] row, int src);

    /** The scale of a block read from the file layout, for {@link #referenceDot}. */
    interface FileScale {
        float at(MemorySegment file, long block);
    }

    /**
     * The canonical dot of row {@code row} of a matrix in its file layout ({@code fileBytes} per block, qs[16] at
     * {@code qsOffset}) with {@code x[xOffset ..]}, one scalar at a time: per block acc = fma((float) (Σ value(code)·xq −
     * offset·Σxq), scale · dx, acc).
     */
    static float referenceDot(MemorySegment file, int row, int n, float[] x, int xOffset, int fileBytes, int qsOffset, FileScale scale,
                              IntUnaryOperator value, int offset) {
        Int8Activations a = Int8Activations.of(java.util.Arrays.copyOfRange(x, xOffset, xOffset + n), 1, n);
        float acc = 0;
        long base = (long) row * (n / 32) * fileBytes;
        for (int b = 0; b < n / 32; b++) {
            long blk = base + (long) b * fileBytes;
            int sum = 0;
            for (int k = 0; k < 32; k++) {
                int qs = file.get(ValueLayout.JAVA_BYTE, blk + qsOffset + (k & 15));
                int code = k < 16 ? qs & 0xF : (qs >> 4) & 0xF;
                int pair = a.pairs[(32 * b + k) >> 1];
                sum += value.applyAsInt(code) * ((k & 1) == 0 ? (short) pair : pair >> 16);
            }
            acc = Math.fma((float) (sum - offset * a.sums[b]), scale.at(file, blk) * a.scales[b], acc);
        }
        return acc;
    }

    @Override
    final long fileRowBytes() {
        return (long) n / 32 * fileBytes;
    }

    /** Two tokens' sums of up to four groups. */
    @Override
    final long scratchFloats() {
        return 8L * ROWS;
    }

    @Override
    final long pieceFloats() {
        return 0;
    }

    @Override
    final void packRow(byte[] row, byte[] group, int i) {
        for (int src = 0, dst = 0; src < row.length; src += fileBytes, dst += BYTES) {
            putFloat(group, dst + 4 * i, scale(row, src));
            for (int c = 0; c < 4; c++) {
                // byte j of v: the code of weight 8c + j (low nibbles of qs[0..15] are weights 0..15, high ones 16..31)
                long v = (getLong(row, src + qsOffset + 8 * (c & 1)) >>> 4 * (c >> 1)) & 0x0F0F0F0F0F0F0F0FL;
                int at = dst + V * (1 + c) + 4 * i;
                putShort(group, at, evenNibbles(v));
                putShort(group, at + 2, evenNibbles(v >>> 8));
            }
        }
    }

    @Override
    final void tile2(MemorySegment s, long second, int g, int k0, int len, Int8Activations act, int t, long acc, int tokens) {
        long blk = g * groupBytes + (long) k0 / 32 * BYTES;
        tile2(s, second, k0, len, 32, data, blk, blk + groupBytes, BYTES, act, t, acc, tokens);
    }

    @Override
    final void tile1x4(MemorySegment d, int g, int k0, int len, Int8Activations a, int t, long acc) {
        tile1x4(d, 0, k0, len, 32, data, g * groupBytes + (long) k0 / 32 * BYTES, BYTES, false, a, t, acc);
    }

    /**
     * Two groups' tiles in 16-bit integers: a 256-token product of 2048 × 2048 on one core (AVX-512) 98.4–107.4 GMAC/s against
     * 87.1–98.4 with the float tiles, 49.3–53.7 against 44.7–45.2 with 256-bit vectors.
     */
    @Override
    final boolean shortTiles() {
        return true;
    }

    @Override
    final void shortTile2(short[] w, int wSecond, MemorySegment d, long second, int g, int k0, int len, Int8Activations act, int t,
                          long acc, int tokens, MemorySegment sums) {
        shortSums(tokens, w, wSecond, k0, len, act.pairs, t, n, sums);
        long blk = g * groupBytes + (long) k0 / 32 * BYTES;
        scaleShortSums(sums, len / 32, 0, k0, data, blk, blk + groupBytes, BYTES, false, act, t, tokens, d, acc);
    }

    /** Each code's value ({@link #nibbleBlockSums}'s {@code values}), null for the code itself. */
    abstract ShortVector codeValues();

    /** What is subtracted from each code's value in every lane (Q4_0's 8). */
    abstract ShortVector codeOffset();

    /** Weights [k0, k0 + len) of row group g as 16-bit codeValues() − codeOffset(), in {@link #decodeShorts}'s order. */
    @Override
    final void decodeShorts(int g, int k0, int len, short[] w, int wAt, MemorySegment d, long at) {
        ShortVector values = codeValues();
        ShortVector offset = codeOffset();
        long blk = g * groupBytes + (long) k0 / 32 * BYTES;
        int o = wAt;
        for (int e = 0; e < len; e += 32, blk += BYTES) {
            for (int c = 0; c < 4; c++) {
                ShortVector v = shorts(data, blk + V + V * c);
                for (int m = 0; m < 4; m++, o += L16) {
                    value(v, values).sub(offset).intoArray(w, o);
                    v = v.lanewise(VectorOperators.LSHR, 4);
                }
            }
        }
    }

    /**
     * Below 32 tokens. Measured (8192 × 2048 from memory, two threads, GMAC/s per core, registers / decoded piece / token
     * pairs): 12 tokens 80.1 / 55.8 / 61.3, 16 80.5 / 59.5 / 72.5, 24 89.1 / 79.7 / 74.7, 48 95.6 / 100.7, 64 94.2 / 100.7.
     * (Q4_K gained nothing from it: 24 tokens 70.3 against 71.3 decoded.)
     */
    @Override
    final boolean fusedTiles(int tokens) {
        return tokens < 32;
    }

    @Override
    final void fusedTile2(MemorySegment d, long second, int g, int k0, int len, Int8Activations act, int t, long acc, int tokens,
                          MemorySegment sums) {
        long blk = g * groupBytes + (long) k0 / 32 * BYTES;
        fusedSums(tokens, data, blk + V, blk + groupBytes + V, BYTES, k0, len, codeValues(), codeOffset(), act.pairs, t, n, sums);
        scaleShortSums(sums, len / 32, 0, k0, data, blk, blk + groupBytes, BYTES, false, act, t, tokens, d, acc);
    }

    /**
     * Weights [k0, k0 + len) of row group g as the floats value(code) − offset (exact), interleaved: weight k of row i at
     * float ROWS·(k − k0) + i of {@code s[at ..]}; {@code values} as {@link #nibbleBlockSums}'s.
     */
    final void decodeUnscaled(int g, int k0, int len, MemorySegment s, long at, ShortVector values, float offset) {
        long blk = g * groupBytes + (long) k0 / 32 * BYTES;
        long o = at;
        for (int e = 0; e < len; e += 32, blk += BYTES) {
            for (int c = 0; c < 4; c++) {
                ShortVector v = shorts(data, blk + V + V * c);
                for (int m = 0; m < 4; m++, o += 2L * V) {
                    IntVector w = value(v, values).reinterpretAsInts();
                    v = v.lanewise(VectorOperators.LSHR, 4);
                    ((FloatVector) w.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16).convert(VectorOperators.I2F, 0))
                            .sub(offset).intoMemorySegment(s, o, ByteOrder.LITTLE_ENDIAN);
                    ((FloatVector) w.lanewise(VectorOperators.ASHR, 16).convert(VectorOperators.I2F, 0)).sub(offset)
                            .intoMemorySegment(s, o + V, ByteOrder.LITTLE_ENDIAN);
                }
            }
        }
    }

    /**
     * One token with row group g, read in address order, each block's products in two 16-bit accumulators and its end
     * scaled into the sums in registers: its sums at s[at ..]. Per block acc = fma((float) (Σ value·xq − offset·Σxq),
     * scale · dx, acc).
     */
    final void dot1(int g, Int8Activations act, int t, MemorySegment s, long at, ShortVector values, int offset) {
        MemorySegment data = this.data;
        int[] xp = act.pairs;
        float[] dxs = act.scales;
        int[] sums = act.sums;
        int po = t * (n / 2);
        int bo = t * (n / 32);
        FloatVector acc = FloatVector.zero(FR);
        long p = g * groupBytes;
        for (int b = 0; b < n / 32; b++, p += BYTES) {
            FloatVector sum = (FloatVector) nibbleBlockSums(data, p + V, xp, po + 16 * b, values).sub(offset * sums[bo + b])
                    .convert(VectorOperators.I2F, 0);
            acc = sum.fma(floats(data, p).mul(dxs[bo + b]), acc);
        }
        acc.intoMemorySegment(s, at, ByteOrder.LITTLE_ENDIAN);
    }

    /** {@link #dot2} for each of {@code quad} groups from g. */
    final boolean twoTokens(int g, int quad, Int8Activations act, int t, MemorySegment s, ShortVector values, int offset) {
        for (int j = 0; j < quad; j++) {
            dot2(g + j, act, t, s, (long) V * j, 4L * V + (long) V * j, values, offset);
        }
        return true;
    }

    /**
     * Tokens t and t + 1 with row group g, each as {@link #dot1} computes it (the same integer sums, the same scaling in
     * the same order: the same bits), their sums at s[at0 ..] and s[at1 ..]. Each block's codes are loaded, masked and
     * shifted once for both tokens: a batch of decoding sequences (a server's step) costs fewer operations per token
     * than one token at a time.
     */
    final void dot2(int g, Int8Activations act, int t, MemorySegment s, long at0, long at1, ShortVector values, int offset) {
        MemorySegment data = this.data;
        int[] xp = act.pairs;
        float[] dxs = act.scales;
        int[] sums = act.sums;
        int pa = t * (n / 2);
        int pb = pa + n / 2;
        int ba = t * (n / 32);
        int bb = ba + n / 32;
        FloatVector acc0 = FloatVector.zero(FR);
        FloatVector acc1 = acc0;
        long p = g * groupBytes;
        for (int b = 0; b < n / 32; b++, p += BYTES) {
            ShortVector a0 = ShortVector.zero(SR), a1 = a0, b0 = a0, b1 = a0;
            // two of the four code vectors at a time: the four written out took the JIT past its node budget (boxed)
            for (int c = 0; c < 4; c += 2) {
                ShortVector v0 = shorts(data, p + V + (long) V * c), v1 = shorts(data, p + 2 * V + (long) V * c);
                int xa = pa + 16 * b + 4 * c;
                int xb = pb + 16 * b + 4 * c;
                for (int m = 0; m < 4; m++) {
                    ShortVector w0 = value(v0, values), w1 = value(v1, values);
                    a0 = a0.add(w0.mul(pair(xp[xa + m])));
                    a1 = a1.add(w1.mul(pair(xp[xa + 4 + m])));
                    b0 = b0.add(w0.mul(pair(xp[xb + m])));
                    b1 = b1.add(w1.mul(pair(xp[xb + 4 + m])));
                    v0 = v0.lanewise(VectorOperators.LSHR, 4);
                    v1 = v1.lanewise(VectorOperators.LSHR, 4);
                }
            }
            IntVector ia = pairSums(a0.add(a1).reinterpretAsInts());
            IntVector ib = pairSums(b0.add(b1).reinterpretAsInts());
            FloatVector scale = floats(data, p);
            acc0 = ((FloatVector) ia.sub(offset * sums[ba + b]).convert(VectorOperators.I2F, 0)).fma(scale.mul(dxs[ba + b]), acc0);
            acc1 = ((FloatVector) ib.sub(offset * sums[bb + b]).convert(VectorOperators.I2F, 0)).fma(scale.mul(dxs[bb + b]), acc1);
        }
        acc0.intoMemorySegment(s, at0, ByteOrder.LITTLE_ENDIAN);
        acc1.intoMemorySegment(s, at1, ByteOrder.LITTLE_ENDIAN);
    }
}
