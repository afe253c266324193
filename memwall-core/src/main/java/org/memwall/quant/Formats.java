package org.memwall.quant;

import java.util.EnumMap;
import java.util.Map;
import java.util.StringJoiner;
import org.memwall.gguf.GgmlType;

/** The registry of implemented formats. */
final class Formats {
    private static final Map<GgmlType, QuantFormat> FORMATS = new EnumMap<>(GgmlType.class);

    static {
        register(new F32());
        register(new F16());
        register(new BF16());
        register(new Q8_0());
        register(new Q4_0());
        register(new Q4_1());
        register(new Q5_0());
        register(new Q5_1());
        register(new Q2_K());
        register(new Q3_K());
        register(new Q4_K());
        register(new Q5_K());
        register(new Q6_K());
        register(new IQ4_NL());
        register(new MXFP4());
    }

    private Formats() {
    }

    private static void register(QuantFormat f) {
        FORMATS.put(f.type(), f);
    }

    static QuantFormat forType(GgmlType type) {
        return FORMATS.get(type);
    }

    static String supportedNames() {
        StringJoiner j = new StringJoiner(", ");
        FORMATS.keySet().forEach(t -> j.add(t.name()));
        return j.toString();
    }
}
