package org.memwall.model;

import java.util.Locale;
import org.memwall.MemwallException;
import org.memwall.gguf.GgmlType;

/**
 * How the CPU's {@link HostKvCache} stores keys and values: the ggml format of each cached row.
 * F16 halves the bytes of F32 (what attention reads per position at long contexts) at a rounding
 * of ~5e-4 relative per value; Q8_0 (blocks of 32 int8 values with one f16 scale, as in GGUF)
 * takes 34 bytes per 32 values and rounds to ~4e-3 of a block's largest value.
 */
public enum KvType {
    F32(GgmlType.F32),
    F16(GgmlType.F16),
    Q8_0(GgmlType.Q8_0);

    /** What a cache stores unless told otherwise. */
    public static final KvType DEFAULT = F16;

    final GgmlType format;

    KvType(GgmlType format) {
        this.format = format;
    }

    /** Bytes of a row of {@code width} values (a multiple of the format's block). */
    public long rowBytes(long width) {
        return format.bytesFor(width);
    }

    /** Whether rows of one attention head of {@code headDim} values can be stored in whole blocks. */
    public boolean fits(int headDim) {
        return headDim % format.blockSize == 0;
    }

    /** The lower-case name the command line uses: {@code f16}, {@code q8_0}. */
    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** {@code f32}, {@code f16} or {@code q8_0} (any case); otherwise an error naming the choices. */
    public static KvType parse(String text) {
        for (KvType t : values()) {
            if (t.label().equalsIgnoreCase(text.strip())) {
                return t;
            }
        }
        throw new MemwallException("--kv-type '" + text + "' is not one of f16, f32, q8_0");
    }
}
