package org.memwall.quant;

import static org.memwall.quant.Blocks.F;
import static org.memwall.quant.Blocks.L;

import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import org.memwall.gguf.GgmlType;

/**
 * Q4_0: 32 weights in 18 bytes.
 * <pre>
 * bytes 0..1   d       f16 scale
 * bytes 2..17  qs[16]  weight j &lt; 16 in the low nibble of qs[j], weight j + 16 in its high nibble
 * weight = d · (nibble − 8)
 * </pre>
 */
public final class Q4_0 implements BlockScaled {
    private static final int BYTES = 18;

    @Override
    public GgmlType type() {
        return GgmlType.Q4_0;
    }

    @Override
    public void dequantize(MemorySegment w, long first, float[] out, int outOffset, int n) {
        long block = first / BLOCK * BYTES;
        for (int e = 0; e < n; e += BLOCK, block += BYTES) {
            FloatVector d = FloatVector.broadcast(F, Blocks.f16(w, block));
            for (int k = 0; k < BLOCK; k += L) {
                q(w, block, k).mul(d).intoArray(out, outOffset + e + k);
            }
        }
    }

    @Override
    public void unscaled(MemorySegment w, long first, float[] q, int qOffset, float[] scales, int scaleOffset, int n) {
        long block = first / BLOCK * BYTES;
        for (int e = 0, b = scaleOffset; e < n; e += BLOCK, block += BYTES, b++) {
            scales[b] = Blocks.f16(w, block);
            for (int k = 0; k < BLOCK; k += L) {
                q(w, block, k).intoArray(q, qOffset + e + k);
            }
        }
    }

    /** Weights k .. k + L − 1 of the block unscaled (k &lt; 16: low nibbles of qs[k ..], else high nibbles of qs[k − 16 ..]), minus 8, as floats. */
    private static FloatVector q(MemorySegment w, long block, int k) {
        ByteVector v = Blocks.bytes(w, block + 2 + (k & 15));
        ByteVector nibbles = k < 16 ? Blocks.low(v) : Blocks.high(v);
        return Blocks.floats(nibbles.sub((byte) 8));
    }

    @Override
    public float dot(MemorySegment w, long first, float[] x, int xOffset, int n) {
        if (L == 8) {
            return dot8(w, first, x, xOffset, n);
        }
        if (L != 16) {
            return dotChunks(w, first, x, xOffset, n);
        }
        // 16 lanes: one load of qs gives both chunks (low nibbles = weights 0..15, high = 16..31).
        long b = first / BLOCK * BYTES;
        FloatVector acc = FloatVector.zero(F);
        for (int e = 0; e < n; e += BLOCK, b += BYTES) {
            ByteVector v = Blocks.bytes(w, b + 2);
            FloatVector s = Blocks.floats(Blocks.low(v).sub((byte) 8)).mul(Blocks.x(x, xOffset + e));
            s = Blocks.floats(Blocks.high(v).sub((byte) 8)).fma(Blocks.x(x, xOffset + e + 16), s);
            acc = s.fma(FloatVector.broadcast(F, Blocks.f16(w, b)), acc);
        }
        return Kernels.sum(acc);
    }

    /**
     * The canonical dot for 4 lanes (8 lanes have {@link #dot8}), fused: each chunk of L weights decoded in
     * registers and summed per block, then scaled. The bytes are widened to 32-bit lanes first and the
     * nibbles taken there ({@link #wide}): AVX2 has no byte shift (the JIT emulates one). The generic
     * kernel, which decodes pieces into memory and reads them back, took 2.8 ms per 4096² product on two
     * AVX2 threads where this takes ~2.0 (MatVecBenchmark).
     */
    private static float dotChunks(MemorySegment w, long first, float[] x, int xOffset, int n) {
        long b = first / BLOCK * BYTES;
        FloatVector acc = FloatVector.zero(F);
        for (int e = 0; e < n; e += BLOCK, b += BYTES) {
            FloatVector s = wide(w, b, 0).mul(Blocks.x(x, xOffset + e));
            for (int k = L; k < BLOCK; k += L) {
                s = wide(w, b, k).fma(Blocks.x(x, xOffset + e + k), s);
            }
            acc = s.fma(FloatVector.broadcast(F, Blocks.f16(w, b)), acc);
        }
        return Kernels.sum(acc);
    }

    /**
     * The canonical dot for 8 lanes (AVX2), fused as {@link #dotChunks} is: each half of qs widened to
     * 32-bit lanes once and used for both of its chunks (low nibbles: weights 0..15, high: 16..31), two
     * widenings per block instead of four; the same products in the same order.
     */
    private static float dot8(MemorySegment w, long first, float[] x, int xOffset, int n) {
        long b = first / BLOCK * BYTES;
        FloatVector acc = FloatVector.zero(F);
        for (int e = 0; e < n; e += BLOCK, b += BYTES) {
            IntVector q0 = Blocks.widened(w, b + 2);
            IntVector q1 = Blocks.widened(w, b + 10);
            FloatVector s = Blocks.low(q0).sub(8f).mul(Blocks.x(x, xOffset + e));
            s = Blocks.low(q1).sub(8f).fma(Blocks.x(x, xOffset + e + 8), s);
            s = Blocks.high(q0).sub(8f).fma(Blocks.x(x, xOffset + e + 16), s);
            s = Blocks.high(q1).sub(8f).fma(Blocks.x(x, xOffset + e + 24), s);
            acc = s.fma(FloatVector.broadcast(F, Blocks.f16(w, b)), acc);
        }
        return Kernels.sum(acc);
    }

    /** {@link #q}, computed in 32-bit lanes: the same values. */
    private static FloatVector wide(MemorySegment w, long block, int k) {
        return Blocks.nibbles(w, block + 2 + (k & 15), k < 16 ? 0 : 4).sub(8f);
    }
}
