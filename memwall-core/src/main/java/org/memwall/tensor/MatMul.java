package org.memwall.tensor;

import java.lang.foreign.MemorySegment;
import org.memwall.quant.AlignedBuffer;
import org.memwall.quant.BlockScaled;
import org.memwall.quant.Int8Activations;
import org.memwall.quant.Interleaved;
import org.memwall.quant.Kernels;
import org.memwall.quant.Q4_0;
import org.memwall.quant.Q4_K;
import org.memwall.quant.Q6_K;
import org.memwall.quant.Q8_0;
import org.memwall.quant.QuantFormat;
import org.memwall.quant.ThreadBuffer;
import org.memwall.quant.Tiles;

/**
 * Matrix products of a weight tensor with a batch of activation rows, split by output rows over the
 * compute pool. Every output is the canonical dot of {@link Kernels} (or of {@link BlockScaled}), so
 * a token's result does not depend on the batch it arrives in.
 *
 * <p>A tensor with a row-interleaved copy ({@link Interleaved}: Q4_0, Q8_0, Q4_K, Q6_K once the CPU model is
 * loaded) is multiplied from that copy by its format's tiled kernel, for any number of tokens, and nothing
 * below applies to it. The rest of this class serves the formats kept in their file layout.
 *
 * <p>One token (decode) streams each row once through its format's fused kernel. Several
 * tokens (prefill, batched decode) decode a group of rows once per block of {@link #TOKEN_BLOCK} tokens
 * into a float tile and reuse it from cache in register tiles sized to the registers: with 16 lanes
 * (32 registers) four rows by four tokens, or by two for block-scaled formats; with fewer lanes (16
 * registers) four rows by three tokens, or three rows by two.
 */
public final class MatMul {
    /**
     * Tokens multiplied with a row group's weights per decoding of them (the activations of a block, 8 KB a token at
     * 2,048 wide, come from L2 or L3 once per group). 256 against 64: 512-token products of 8,192 × 2,048 Q4_0 on one
     * core 92.9 against 81.8–88.1 GMAC/s, a model's pp512 +5–12% (Q4_0), +6–21% (Q8_0), +12% with 256-bit vectors.
     */
    private static final int TOKEN_BLOCK = 256;
    /**
     * Rows per group of a block-scaled format: four with 16 lanes ({@link Tiles#scaledTile4x2}), three
     * below ({@link Kernels#scaledTile3x2}: a 4×2 tile of several vectors per block outgrows sixteen registers).
     */
    private static final int SCALED_ROWS = Tiles.SCALED_TILES ? 4 : 3;
    /** Tokens per plain register tile: four with 16 lanes (32 registers), three below (16 registers). */
    private static final int TILE_TOKENS = Kernels.SPECIES.length() == 16 ? 4 : 3;

    private static final ThreadBuffer TILE = new ThreadBuffer();
    private static final ThreadBuffer LANES = new ThreadBuffer();
    /** The rows of {@link #TILE} again, aligned for the register tiles. */
    private static final AlignedBuffer ALIGNED_TILE = new AlignedBuffer();
    /** A batch's activations, aligned, copied once per product by the calling thread. */
    private static final AlignedBuffer ACTIVATIONS = new AlignedBuffer();

    private MatMul() {
    }

    /**
     * {@code out[t·rows + r] = W[rowOffset + r] · x[t·n ..]} for tokens t in [0, tokens) and rows r in
     * [0, rows), where n = {@code w.rowLength()}.
     */
    public static void matmul(Parallel pool, Tensor w, int rowOffset, int rows, float[] x, int tokens, float[] out) {
        Interleaved il = w.interleaved();
        if (il != null) {
            interleaved(pool, il, rowOffset, rows, x, tokens, out);
            return;
        }
        int n = w.rowLength();
        MemorySegment data = w.data();
        if (tokens == 1) {
            pool.forChunks(rows, decodeGrain(rows, pool.threads()), decodeTask(w.format(), data, rowOffset, rows, n, x, out));
        } else {
            MemorySegment xs = ACTIVATIONS.copyOf(x, 0, tokens * n);
            int groupRows = w.format() instanceof BlockScaled ? SCALED_ROWS : 4;
            pool.forRange((rows + groupRows - 1) / groupRows, tileTask(w.format(), data, rowOffset, rows, n, x, xs, tokens, out));
        }
    }

    /**
     * Several products of the same activations: {@code outs[i] = ws[i] · x} for each i, as {@link #matmul} computes
     * them. When every weight has a row-interleaved copy of rows of the same length they run as one dispatch over
     * all their row groups (one wake-up and barrier, and one quantization of x for the integer formats, where three
     * products of a layer's Q, K and V took three); otherwise one after another. Each row's arithmetic is that of its
     * own product whatever the split, so the results are the same bits.
     */
    public static void matmulAll(Parallel pool, Tensor[] ws, float[] x, int tokens, float[][] outs) {
        int n = ws[0].rowLength();
        boolean fused = ws.length > 1;
        boolean int8 = false;
        for (Tensor w : ws) {
            Interleaved il = w.interleaved();
            if (il == null || w.rowLength() != n) {
                fused = false;
                break;
            }
            int8 |= il.int8Activations();
        }
        if (!fused) {
            for (int i = 0; i < ws.length; i++) {
                matmul(pool, ws[i], x, tokens, outs[i]);
            }
            return;
        }
        Int8Activations a = int8 ? Int8Activations.of(x, tokens, n, pool) : null;
        int[] start = new int[ws.length + 1];
        for (int i = 0; i < ws.length; i++) {
            start[i + 1] = start[i] + ws[i].interleaved().groups();
        }
        int total = start[ws.length];
        Parallel.RangeTask task = (from, to, thread) -> {
            for (int i = 0; i < ws.length; i++) {
                int lo = Math.max(from, start[i]) - start[i];
                int hi = Math.min(to, start[i + 1]) - start[i];
                if (lo < hi) {
                    Interleaved il = ws[i].interleaved();
                    int rows = ws[i].rowCount();
                    for (int t0 = 0; t0 < tokens; t0 += TOKEN_BLOCK) {
                        il.multiply(lo, hi, 0, rows, x, a, t0, Math.min(tokens, t0 + TOKEN_BLOCK), outs[i], rows);
                    }
                }
            }
        };
        if (tokens == 1) {
            pool.forChunks(total, Math.max(4, total / (8 * pool.threads()) / 4 * 4), task);
        } else {
            pool.forRange(total, task);
        }
    }

    /**
     * The product from the row-interleaved copy: row groups of eight split over the pool, a piece of
     * about eight per thread for one token (see {@link #decodeGrain}), and for several tokens each thread's
     * groups taken once per block of {@link #TOKEN_BLOCK} tokens.
     */
    private static void interleaved(Parallel pool, Interleaved il, int rowOffset, int rows, float[] x, int tokens, float[] out) {
        int g0 = rowOffset / Interleaved.ROWS;
        int groups = (rowOffset + rows + Interleaved.ROWS - 1) / Interleaved.ROWS - g0;
        Int8Activations a = il.int8Activations() ? Int8Activations.of(x, tokens, il.rowLength(), pool) : null;
        if (tokens == 1) {
            int grain = Math.max(4, groups / (8 * pool.threads()) / 4 * 4);
            pool.forChunks(groups, grain, (from, to, thread) -> il.multiply(g0 + from, g0 + to, rowOffset, rows, x, a, 0, 1, out, rows));
        } else {
            pool.forRange(groups, (from, to, thread) -> {
                for (int t0 = 0; t0 < tokens; t0 += TOKEN_BLOCK) {
                    il.multiply(g0 + from, g0 + to, rowOffset, rows, x, a, t0, Math.min(tokens, t0 + TOKEN_BLOCK), out, rows);
                }
            });
        }
    }

    /**
     * Rows per claimed piece of a one-token product: about eight pieces per thread, so that a thread
     * that falls behind hands rows to the other instead of everyone waiting for it (measured: ~8% of
     * decode time was spent waiting with fixed halves), and at least 16 rows so each piece is a long
     * stream of memory.
     */
    private static int decodeGrain(int rows, int threads) {
        return Math.max(16, rows / (8 * threads));
    }

    /*
     * One task class per format with a fused kernel, and every long loop inside it: there the format
     * is a known final class, so the JIT compiles that format's kernel alone into the task (also when it
     * compiles a running loop on stack). A loop shared by all formats would inline the kernels of every
     * format it met, outgrow the JIT's inlining budget and leave vectors boxed on the heap. The shared
     * helpers below handle one row group, a short call that is inlined into each task.
     */

    private static Parallel.RangeTask decodeTask(QuantFormat f, MemorySegment data, int rowOffset, int rows, int n, float[] x, float[] out) {
        return switch (f) {
            case Q8_0 q -> (from, to, thread) -> {
                for (int r = from; r < to; r++) {
                    out[r] = q.dot(data, (long) (rowOffset + r) * n, x, 0, n);
                }
            };
            case Q4_0 q -> (from, to, thread) -> {
                for (int r = from; r < to; r++) {
                    out[r] = q.dot(data, (long) (rowOffset + r) * n, x, 0, n);
                }
            };
            case Q4_K q -> (from, to, thread) -> {
                for (int r = from; r < to; r++) {
                    out[r] = q.dot(data, (long) (rowOffset + r) * n, x, 0, n);
                }
            };
            case Q6_K q -> (from, to, thread) -> {
                for (int r = from; r < to; r++) {
                    out[r] = q.dot(data, (long) (rowOffset + r) * n, x, 0, n);
                }
            };
            default -> (from, to, thread) -> {
                for (int r = from; r < to; r++) {
                    out[r] = f.dot(data, (long) (rowOffset + r) * n, x, 0, n);
                }
            };
        };
    }

    private static Parallel.RangeTask tileTask(QuantFormat f, MemorySegment data, int rowOffset, int rows, int n, float[] x,
                                               MemorySegment xs, int tokens, float[] out) {
        return switch (f) {
            case Q8_0 q -> (from, to, thread) -> {
                float[] tile = TILE.get(scaledTileSize(n));
                for (int t0 = 0; t0 < tokens; t0 += TOKEN_BLOCK) {
                    for (int g = from; g < to; g++) {
                        scaledGroup(q, data, rowOffset, rows, n, x, xs, tokens, out, tile, g, t0);
                    }
                }
            };
            case Q4_0 q -> (from, to, thread) -> {
                float[] tile = TILE.get(scaledTileSize(n));
                for (int t0 = 0; t0 < tokens; t0 += TOKEN_BLOCK) {
                    for (int g = from; g < to; g++) {
                        scaledGroup(q, data, rowOffset, rows, n, x, xs, tokens, out, tile, g, t0);
                    }
                }
            };
            case Q4_K q -> (from, to, thread) -> {
                float[] tile = TILE.get(4 * n);
                for (int t0 = 0; t0 < tokens; t0 += TOKEN_BLOCK) {
                    for (int g = from; g < to; g++) {
                        group(q, data, rowOffset, rows, n, x, xs, tokens, out, tile, g, t0);
                    }
                }
            };
            case Q6_K q -> (from, to, thread) -> {
                float[] tile = TILE.get(4 * n);
                for (int t0 = 0; t0 < tokens; t0 += TOKEN_BLOCK) {
                    for (int g = from; g < to; g++) {
                        group(q, data, rowOffset, rows, n, x, xs, tokens, out, tile, g, t0);
                    }
                }
            };
            case BlockScaled q -> (from, to, thread) -> {
                float[] tile = TILE.get(scaledTileSize(n));
                for (int t0 = 0; t0 < tokens; t0 += TOKEN_BLOCK) {
                    for (int g = from; g < to; g++) {
                        scaledGroup(q, data, rowOffset, rows, n, x, xs, tokens, out, tile, g, t0);
                    }
                }
            };
            default -> (from, to, thread) -> {
                float[] tile = TILE.get(4 * n);
                for (int t0 = 0; t0 < tokens; t0 += TOKEN_BLOCK) {
                    for (int g = from; g < to; g++) {
                        group(f, data, rowOffset, rows, n, x, xs, tokens, out, tile, g, t0);
                    }
                }
            };
        };
    }

    /** Row group g (four rows) for tokens [t0, t0 + TOKEN_BLOCK): dequantized once, then 4×4 register tiles. */
    private static void group(QuantFormat f, MemorySegment data, int rowOffset, int rows, int n, float[] x, MemorySegment xs, int tokens,
                              float[] out, float[] tile, int g, int t0) {
        int t1 = Math.min(tokens, t0 + TOKEN_BLOCK);
        int r = 4 * g;
        int count = Math.min(4, rows - r);
        for (int i = 0; i < count; i++) {
            f.dequantize(data, (long) (rowOffset + r + i) * n, tile, i * n, n);
        }
        int t = t0;
        if (count == 4) {
            MemorySegment aligned = ALIGNED_TILE.copyOf(tile, 0, 4 * n);
            float[] lanes = LANES.get(Tiles.SCRATCH);
            if (TILE_TOKENS == 4) {
                for (; t + 4 <= t1; t += 4) {
                    Tiles.tile4x4(aligned, 0, xs, (long) t * n, n, out, t * rows + r, rows, lanes);
                }
            } else {
                for (; t + 3 <= t1; t += 3) {
                    Tiles.tile4x3(aligned, 0, xs, (long) t * n, n, out, t * rows + r, rows, lanes);
                }
            }
            for (; t < t1; t++) {
                Kernels.tile4x1(tile, 0, x, t * n, n, out, t * rows + r);
            }
        }
        for (; t < t1; t++) {
            for (int i = 0; i < count; i++) {
                out[t * rows + r + i] = Kernels.dot(tile, i * n, x, t * n, n);
            }
        }
    }

    private static int scaledTileSize(int n) {
        return 4 * n + 4 * (n / BlockScaled.BLOCK);
    }

    /** {@link #group} for block-scaled formats: {@link #SCALED_ROWS} unscaled rows and their scales, register tiles of two tokens. */
    private static void scaledGroup(BlockScaled f, MemorySegment data, int rowOffset, int rows, int n, float[] x, MemorySegment xs, int tokens,
                                    float[] out, float[] tile, int g, int t0) {
        int t1 = Math.min(tokens, t0 + TOKEN_BLOCK);
        int nb = n / BlockScaled.BLOCK;
        int scales = 4 * n;
        int r = SCALED_ROWS * g;
        int count = Math.min(SCALED_ROWS, rows - r);
        for (int i = 0; i < count; i++) {
            f.unscaled(data, (long) (rowOffset + r + i) * n, tile, i * n, tile, scales + i * nb, n);
        }
        int t = t0;
        if (count == SCALED_ROWS && Tiles.SCALED_TILES) {
            MemorySegment aligned = ALIGNED_TILE.copyOf(tile, 0, 4 * n);
            float[] lanes = LANES.get(Tiles.SCRATCH);
            for (; t + 2 <= t1; t += 2) {
                Tiles.scaledTile4x2(aligned, 0, tile, scales, xs, (long) t * n, n, out, t * rows + r, rows, lanes);
            }
        } else if (count == SCALED_ROWS) {
            for (; t + 2 <= t1; t += 2) {
                Kernels.scaledTile3x2(tile, 0, tile, scales, x, t * n, n, out, t * rows + r, rows);
            }
        }
        for (; t < t1; t++) {
            for (int i = 0; i < count; i++) {
                out[t * rows + r + i] = Kernels.scaledDot(tile, i * n, tile, scales + i * nb, x, t * n, n);
            }
        }
    }

    /** All rows of {@code w}: {@code out[t·rowCount + r] = W[r] · x[t]}. */
    public static void matmul(Parallel pool, Tensor w, float[] x, int tokens, float[] out) {
        matmul(pool, w, 0, w.rowCount(), x, tokens, out);
    }
}
