package org.memwall.quant;

import static org.memwall.quant.Blocks.F;
import static org.memwall.quant.Blocks.L;

import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import org.memwall.gguf.GgmlType;

/**
 * One attention head's cached keys for a block of {@code rows} positions, laid out by dimension: dimension d of every
 * position side by side (its "plane", position r at element d·rows + r), so one vector holds one dimension of L
 * consecutive positions and attention scores L positions at once with no sum across lanes. F32 and F16 store their
 * values so; Q8_0 stores its int8 values so (one byte per value), then each 32-dimension block's f16 scale as planes of
 * their own (block c at rows·width bytes + 2·(c·rows + r)). A head's planes take exactly the bytes of its rows in the
 * row layout ({@code type.bytesFor(rows · width)}); a reader decodes whole runs, so a block's storage needs
 * {@link #PAD} bytes after its last head.
 */
public final class KeyPlanes {
    /** Positions decoded at once: four vectors of positions per dimension. */
    public static final int RUN = 4 * L;
    /** Bytes a run may read past the last head's planes (its last run's positions past {@code rows}). */
    public static final int PAD = 4 * RUN;

    private KeyPlanes() {
    }

    /** Whether keys of {@code type} can be stored as planes. */
    public static boolean supports(GgmlType type) {
        return type == GgmlType.F32 || type == GgmlType.F16 || type == GgmlType.Q8_0;
    }

    /**
     * Stores x[off .. off + width) as position r of the head whose planes start at byte {@code head} of {@code block};
     * {@code scratch} holds at least one row of the type (Q8_0 quantizes the row there first, then scatters it).
     */
    public static void put(GgmlType type, MemorySegment block, long head, int rows, int r, float[] x, int off, int width, ByteBuffer scratch) {
        switch (type) {
            case F32 -> {
                for (int d = 0; d < width; d++) {
                    block.set(Blocks.FLOAT_LE, head + 4L * ((long) d * rows + r), x[off + d]);
                }
            }
            case F16 -> {
                for (int d = 0; d < width; d++) {
                    block.set(Blocks.SHORT_LE, head + 2L * ((long) d * rows + r), Float.floatToFloat16(x[off + d]));
                }
            }
            case Q8_0 -> {
                scratch.clear();
                Quantizer.quantize(type, x, off, width, scratch); // little-endian from here
                long scales = head + (long) width * rows;
                for (int c = 0; c < width / 32; c++) {
                    int at = 34 * c;
                    block.set(Blocks.SHORT_LE, scales + 2L * ((long) c * rows + r), scratch.getShort(at));
                    for (int k = 0; k < 32; k++) {
                        block.set(Blocks.U8, head + (long) (32 * c + k) * rows + r, scratch.get(at + 2 + k));
                    }
                }
            }
            default -> throw new IllegalArgumentException("keys cannot be stored as planes of " + type);
        }
    }

    /**
     * Decodes positions [r0, r0 + {@link #RUN}) of the head whose planes start at byte {@code head}: dimension d of
     * position r0 + c to out[d·RUN + c], each value exactly as the type's row decoding gives it. Positions at or past
     * {@code rows} decode whatever the bytes there hold.
     */
    public static void decode(GgmlType type, MemorySegment block, long head, int rows, int r0, int width, float[] out) {
        switch (type) {
            case F32 -> {
                for (int d = 0; d < width; d++) {
                    long at = head + 4L * ((long) d * rows + r0);
                    for (int c = 0; c < RUN; c += L) {
                        FloatVector.fromMemorySegment(F, block, at + 4L * c, ByteOrder.LITTLE_ENDIAN).intoArray(out, d * RUN + c);
                    }
                }
            }
            case F16 -> {
                for (int d = 0; d < width; d++) {
                    long at = head + 2L * ((long) d * rows + r0);
                    for (int c = 0; c < RUN; c += L) {
                        F16.toFloat(Blocks.shorts(block, at + 2L * c)).intoArray(out, d * RUN + c);
                    }
                }
            }
            case Q8_0 -> {
                long scales = head + (long) width * rows;
                for (int d = 0; d < width; d++) {
                    long at = head + (long) d * rows + r0;
                    long sc = scales + 2L * ((long) (d / 32) * rows + r0);
                    for (int c = 0; c < RUN; c += L) {
                        Blocks.floats(Blocks.bytes(block, at + c)).mul(F16.toFloat(Blocks.shorts(block, sc + 2L * c)))
                                .intoArray(out, d * RUN + c);
                    }
                }
            }
            default -> throw new IllegalArgumentException("keys cannot be stored as planes of " + type);
        }
    }

    /** Copies positions [fromR, fromR + count) of one head's planes to positions [toR ..) of another's. */
    public static void copy(GgmlType type, MemorySegment from, long fromHead, int fromRows, int fromR,
                            MemorySegment to, long toHead, int toRows, int toR, int count, int width) {
        int size = type == GgmlType.F32 ? 4 : type == GgmlType.F16 ? 2 : 1;
        for (int d = 0; d < width; d++) {
            MemorySegment.copy(from, fromHead + (long) size * ((long) d * fromRows + fromR),
                    to, toHead + (long) size * ((long) d * toRows + toR), (long) size * count);
        }
        if (type == GgmlType.Q8_0) {
            long a = fromHead + (long) width * fromRows;
            long b = toHead + (long) width * toRows;
            for (int c = 0; c < width / 32; c++) {
                MemorySegment.copy(from, a + 2L * ((long) c * fromRows + fromR), to, b + 2L * ((long) c * toRows + toR), 2L * count);
            }
        }
    }
}
