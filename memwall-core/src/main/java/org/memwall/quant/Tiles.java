package org.memwall.quant;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static org.memwall.quant.Blocks.F;
import static org.memwall.quant.Blocks.L;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;

/**
 * The register tiles of the prefill products, reading dequantized rows and activations from 64-byte
 * aligned native buffers ({@link AlignedBuffer}). Each computes, per (row, token), exactly the
 * canonical dot of {@link Kernels}: one accumulator of L lanes fed in chunk order, summed as the fixed
 * lane tree.
 *
 * <p>Three things decide their speed, each measured on the 4×4 tile (one thread, AVX-512, 4 rows and 4
 * tokens of 2048): 63 GFLOP/s as first written, 150 with all three.
 * <ul>
 * <li>Aligned loads. A float[] starts 16 bytes into its object, so every 64-byte load from it straddles two
 * cache lines; the same loop from aligned memory ran 40% faster.
 * <li>No loop unrolling. C2 unrolls the chunk loop four times and issues all 32 loads first, runs out of
 * its 32 vector registers and spills the accumulators to the stack on every pass. The loop
 * carries {@link #unrollGuard}: a long multiply by a value the JIT cannot see as a constant makes C2 count
 * the loop body as too big to unroll, while the loop stays counted (bounds checks hoisted). It costs
 * one integer multiply per 16 FMAs.
 * <li>The sixteen lane sums as vector operations: four levels of two-vector lane selections
 * ({@code vpermi2ps}) and adds turn sixteen accumulators into one vector of sixteen sums, pairing lanes
 * exactly as the canonical tree does (lane i with i + 8, then i + 4, ...). Summed one by one in scalar
 * code they took as long as the products for rows of 512.
 * </ul>
 */
public final class Tiles {
    private static final ByteOrder ORDER = ByteOrder.nativeOrder();
    /** Read by the chunk loops as a loop invariant the JIT cannot fold (see the class comment); always 1. */
    private static long unrollGuard = 1;
    /** Where the guard's products go, so that the JIT keeps them. */
    private static long guardSink;

    /*
     * Lane selections of the vector lane sums (L == 16): level k pairs lanes h = 8 >> k apart. Given two
     * vectors a and b whose lanes hold groups of 2h partial sums (one group per output), LOk picks the
     * lower h lanes of every group, a's groups then b's, and HIk the upper h; LOk + HIk holds groups of h.
     */
    private static final FloatVector LO0 = selection(8, false), HI0 = selection(8, true);
    private static final FloatVector LO1 = selection(4, false), HI1 = selection(4, true);
    private static final FloatVector LO2 = selection(2, false), HI2 = selection(2, true);
    private static final FloatVector LO3 = selection(1, false), HI3 = selection(1, true);

    /** Floats of scratch space a tile needs ({@code lanes} argument). */
    public static final int SCRATCH = 16 * L + 16;
    /** Whether {@link #scaledTile4x2} runs here: it is written for blocks of exactly two vectors (AVX-512). */
    public static final boolean SCALED_TILES = L * 2 == BlockScaled.BLOCK;

    private Tiles() {
    }

    private static FloatVector selection(int h, boolean upper) {
        if (L != 16) {
            return null;
        }
        float[] index = new float[16];
        for (int i = 0; i < 16; i++) {
            int source = i < 8 ? 0 : 16; // indexes 16..31 select from the second vector
            int j = i % 8;
            index[i] = source + (j / h) * 2 * h + (upper ? h : 0) + j % h;
        }
        return FloatVector.fromArray(F, index, 0);
    }

    private static FloatVector load(MemorySegment s, long element) {
        return FloatVector.fromMemorySegment(F, s, element * Float.BYTES, ORDER);
    }

    /**
     * Canonical dots of four rows {@code w[wOffset + r·n ..]} with four activation rows
     * {@code x[xOffset + t·n ..]} (element offsets into float buffers):
     * {@code out[outOffset + t·outStride + r]}. Sixteen accumulators; each row chunk and each activation
     * chunk is loaded once for four uses. For 16 lanes only (32 registers; below, {@link #tile4x3}).
     * {@code lanes}: {@link #SCRATCH} floats of scratch.
     */
    public static void tile4x4(MemorySegment w, long wOffset, MemorySegment x, long xOffset, int n, float[] out, int outOffset,
                               int outStride, float[] lanes) {
        int full = n - n % L;
        FloatVector a00 = FloatVector.zero(F), a01 = a00, a02 = a00, a03 = a00;
        FloatVector a10 = a00, a11 = a00, a12 = a00, a13 = a00;
        FloatVector a20 = a00, a21 = a00, a22 = a00, a23 = a00;
        FloatVector a30 = a00, a31 = a00, a32 = a00, a33 = a00;
        long w1 = wOffset + n;
        long w2 = w1 + n;
        long w3 = w2 + n;
        long x1 = xOffset + n;
        long x2 = x1 + n;
        long x3 = x2 + n;
        long guard = unrollGuard;
        long g = 0;
        for (int c = 0; c < full; c += L) {
            g += c * guard;
            FloatVector r0 = load(w, wOffset + c);
            FloatVector r1 = load(w, w1 + c);
            FloatVector r2 = load(w, w2 + c);
            FloatVector r3 = load(w, w3 + c);
            FloatVector t = load(x, xOffset + c);
            a00 = r0.fma(t, a00);
            a10 = r1.fma(t, a10);
            a20 = r2.fma(t, a20);
            a30 = r3.fma(t, a30);
            t = load(x, x1 + c);
            a01 = r0.fma(t, a01);
            a11 = r1.fma(t, a11);
            a21 = r2.fma(t, a21);
            a31 = r3.fma(t, a31);
            t = load(x, x2 + c);
            a02 = r0.fma(t, a02);
            a12 = r1.fma(t, a12);
            a22 = r2.fma(t, a22);
            a32 = r3.fma(t, a32);
            t = load(x, x3 + c);
            a03 = r0.fma(t, a03);
            a13 = r1.fma(t, a13);
            a23 = r2.fma(t, a23);
            a33 = r3.fma(t, a33);
        }
        guardSink = g;
        // Lane 4t + r of the result is the sum of a_rt.
        FloatVector p0 = LO0.selectFrom(a00, a10).add(HI0.selectFrom(a00, a10));
        FloatVector p1 = LO0.selectFrom(a20, a30).add(HI0.selectFrom(a20, a30));
        FloatVector p2 = LO0.selectFrom(a01, a11).add(HI0.selectFrom(a01, a11));
        FloatVector p3 = LO0.selectFrom(a21, a31).add(HI0.selectFrom(a21, a31));
        FloatVector p4 = LO0.selectFrom(a02, a12).add(HI0.selectFrom(a02, a12));
        FloatVector p5 = LO0.selectFrom(a22, a32).add(HI0.selectFrom(a22, a32));
        FloatVector p6 = LO0.selectFrom(a03, a13).add(HI0.selectFrom(a03, a13));
        FloatVector p7 = LO0.selectFrom(a23, a33).add(HI0.selectFrom(a23, a33));
        FloatVector q0 = LO1.selectFrom(p0, p1).add(HI1.selectFrom(p0, p1));
        FloatVector q1 = LO1.selectFrom(p2, p3).add(HI1.selectFrom(p2, p3));
        FloatVector q2 = LO1.selectFrom(p4, p5).add(HI1.selectFrom(p4, p5));
        FloatVector q3 = LO1.selectFrom(p6, p7).add(HI1.selectFrom(p6, p7));
        FloatVector s0 = LO2.selectFrom(q0, q1).add(HI2.selectFrom(q0, q1));
        FloatVector s1 = LO2.selectFrom(q2, q3).add(HI2.selectFrom(q2, q3));
        LO3.selectFrom(s0, s1).add(HI3.selectFrom(s0, s1)).intoArray(lanes, 0);
        finish(lanes, 0, 4, w, wOffset, n, full, x, xOffset, out, outOffset, outStride);
    }

    /**
     * {@link #tile4x4} with three activation rows, for fewer than 16 lanes: twelve accumulators, four row
     * chunks and one activation chunk fit AVX2's sixteen vector registers, where the 4×4 tile's twenty-one
     * do not (C2 spills). Model prefill side by side (Llama-3.2-1B Q4_K_M, pp128, 2 AVX2 threads):
     * 15.0–15.6 tokens/s with the 4×4 tile, 17.5–19.1 with this one.
     */
    public static void tile4x3(MemorySegment w, long wOffset, MemorySegment x, long xOffset, int n, float[] out, int outOffset,
                               int outStride, float[] lanes) {
        int full = n - n % L;
        FloatVector a00 = FloatVector.zero(F), a01 = a00, a02 = a00;
        FloatVector a10 = a00, a11 = a00, a12 = a00;
        FloatVector a20 = a00, a21 = a00, a22 = a00;
        FloatVector a30 = a00, a31 = a00, a32 = a00;
        long w1 = wOffset + n;
        long w2 = w1 + n;
        long w3 = w2 + n;
        long x1 = xOffset + n;
        long x2 = x1 + n;
        long guard = unrollGuard;
        long g = 0;
        for (int c = 0; c < full; c += L) {
            g += c * guard;
            FloatVector r0 = load(w, wOffset + c);
            FloatVector r1 = load(w, w1 + c);
            FloatVector r2 = load(w, w2 + c);
            FloatVector r3 = load(w, w3 + c);
            FloatVector t = load(x, xOffset + c);
            a00 = r0.fma(t, a00);
            a10 = r1.fma(t, a10);
            a20 = r2.fma(t, a20);
            a30 = r3.fma(t, a30);
            t = load(x, x1 + c);
            a01 = r0.fma(t, a01);
            a11 = r1.fma(t, a11);
            a21 = r2.fma(t, a21);
            a31 = r3.fma(t, a31);
            t = load(x, x2 + c);
            a02 = r0.fma(t, a02);
            a12 = r1.fma(t, a12);
            a22 = r2.fma(t, a22);
            a32 = r3.fma(t, a32);
        }
        guardSink = g;
        a00.intoArray(lanes, 0);
        a10.intoArray(lanes, L);
        a20.intoArray(lanes, 2 * L);
        a30.intoArray(lanes, 3 * L);
        a01.intoArray(lanes, 4 * L);
        a11.intoArray(lanes, 5 * L);
        a21.intoArray(lanes, 6 * L);
        a31.intoArray(lanes, 7 * L);
        a02.intoArray(lanes, 8 * L);
        a12.intoArray(lanes, 9 * L);
        a22.intoArray(lanes, 10 * L);
        a32.intoArray(lanes, 11 * L);
        int sums = 12 * L;
        for (int i = 0; i < 12; i++) {
            lanes[sums + i] = Kernels.sum(lanes, i * L);
        }
        finish(lanes, sums, 3, w, wOffset, n, full, x, xOffset, out, outOffset, outStride);
    }

    /**
     * Canonical block-scaled dots ({@link BlockScaled}: q·x summed per block of 32, then scaled) of four
     * unscaled rows {@code q[qOffset + r·n ..]}, scales {@code scales[scaleOffset + r·n/32 ..]}, with two
     * activation rows {@code x[xOffset + t·n ..]}: {@code out[outOffset + t·outStride + r]}; only where
     * {@link #SCALED_TILES}. Each block's eight row vectors are loaded once for both tokens. Two tokens,
     * not three or four: with twelve or sixteen accumulators besides the block's rows, scales and sums the
     * JIT spills (measured slower). Every vector load has its own line of code in the loop (with a load
     * per use the JIT ran out of inlining budget and boxed every vector), and the loop counts blocks so
     * that every index is linear in the counter (bounds checks hoisted). {@code lanes}: {@link #SCRATCH}
     * floats of scratch.
     */
    public static void scaledTile4x2(MemorySegment q, long qOffset, float[] scales, int scaleOffset, MemorySegment x, long xOffset, int n,
                                     float[] out, int outOffset, int outStride, float[] lanes) {
        int nb = n / BlockScaled.BLOCK;
        FloatVector zero = FloatVector.zero(F);
        FloatVector a00 = zero, a10 = zero, a20 = zero, a30 = zero;
        FloatVector a01 = zero, a11 = zero, a21 = zero, a31 = zero;
        long q1 = qOffset + n;
        long q2 = q1 + n;
        long q3 = q2 + n;
        long x1 = xOffset + n;
        long guard = unrollGuard;
        long g = 0;
        for (int b = 0; b < nb; b++) {
            g += b * guard;
            long c = (long) b * BlockScaled.BLOCK;
            FloatVector w0 = load(q, qOffset + c);
            FloatVector v0 = load(q, qOffset + c + L);
            FloatVector w1 = load(q, q1 + c);
            FloatVector v1 = load(q, q1 + c + L);
            FloatVector w2 = load(q, q2 + c);
            FloatVector v2 = load(q, q2 + c + L);
            FloatVector w3 = load(q, q3 + c);
            FloatVector v3 = load(q, q3 + c + L);
            FloatVector d0 = FloatVector.broadcast(F, scales[scaleOffset + b]);
            FloatVector d1 = FloatVector.broadcast(F, scales[scaleOffset + b + nb]);
            FloatVector d2 = FloatVector.broadcast(F, scales[scaleOffset + b + 2 * nb]);
            FloatVector d3 = FloatVector.broadcast(F, scales[scaleOffset + b + 3 * nb]);
            FloatVector t = load(x, xOffset + c);
            FloatVector u = load(x, xOffset + c + L);
            a00 = v0.fma(u, w0.mul(t)).fma(d0, a00);
            a10 = v1.fma(u, w1.mul(t)).fma(d1, a10);
            a20 = v2.fma(u, w2.mul(t)).fma(d2, a20);
            a30 = v3.fma(u, w3.mul(t)).fma(d3, a30);
            t = load(x, x1 + c);
            u = load(x, x1 + c + L);
            a01 = v0.fma(u, w0.mul(t)).fma(d0, a01);
            a11 = v1.fma(u, w1.mul(t)).fma(d1, a11);
            a21 = v2.fma(u, w2.mul(t)).fma(d2, a21);
            a31 = v3.fma(u, w3.mul(t)).fma(d3, a31);
        }
        guardSink = g;
        // The lane selections of tile4x4 over the eight accumulators and zeros (written out in each tile:
        // passed to a call, the vectors would be boxed).
        FloatVector p0 = LO0.selectFrom(a00, a10).add(HI0.selectFrom(a00, a10));
        FloatVector p1 = LO0.selectFrom(a20, a30).add(HI0.selectFrom(a20, a30));
        FloatVector p2 = LO0.selectFrom(a01, a11).add(HI0.selectFrom(a01, a11));
        FloatVector p3 = LO0.selectFrom(a21, a31).add(HI0.selectFrom(a21, a31));
        FloatVector r0 = LO1.selectFrom(p0, p1).add(HI1.selectFrom(p0, p1));
        FloatVector r1 = LO1.selectFrom(p2, p3).add(HI1.selectFrom(p2, p3));
        FloatVector s0 = LO2.selectFrom(r0, r1).add(HI2.selectFrom(r0, r1));
        LO3.selectFrom(s0, zero).add(HI3.selectFrom(s0, zero)).intoArray(lanes, 0);
        for (int tk = 0; tk < 2; tk++) {
            for (int r = 0; r < 4; r++) {
                out[outOffset + tk * outStride + r] = lanes[4 * tk + r];
            }
        }
    }

    /** Adds the scalar tails (n not a multiple of L) to the sums {@code lanes[sums + 4t + r]} of four rows by {@code tokens} and writes them out. */
    private static void finish(float[] lanes, int sums, int tokens, MemorySegment w, long wOffset, int n, int full, MemorySegment x, long xOffset,
                               float[] out, int outOffset, int outStride) {
        for (int t = 0; t < tokens; t++) {
            for (int r = 0; r < 4; r++) {
                float s = lanes[sums + 4 * t + r];
                for (int i = full; i < n; i++) {
                    s = Math.fma(w.getAtIndex(JAVA_FLOAT, wOffset + (long) r * n + i),
                            x.getAtIndex(JAVA_FLOAT, xOffset + (long) t * n + i), s);
                }
                out[outOffset + t * outStride + r] = s;
            }
        }
    }
}
