package org.memwall.plan;

import java.util.Locale;
import org.memwall.MemwallException;

/** How the KV cache stores one element: its bytes, block scales included. */
public enum KvType {
    F32(4), F16(2), BF16(2), FP8(1), Q8_0(34.0 / 32), Q4_0(18.0 / 32);

    public final double bytes;

    KvType(double bytes) {
        this.bytes = bytes;
    }

    public static KvType parse(String s) {
        for (KvType t : values()) {
            if (t.name().equalsIgnoreCase(s)) {
                return t;
            }
        }
        throw new MemwallException("unknown KV type '" + s + "' (f32, f16, bf16, fp8, q8_0, q4_0)");
    }

    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }
}
