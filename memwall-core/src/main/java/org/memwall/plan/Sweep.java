package org.memwall.plan;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import org.memwall.MemwallException;

/**
 * A what-if sweep: one workload and deployment planned again with one thing changed per row, the memory
 * wall's questions in one table. {@code --sweep KIND[=V1,V2,...]}:
 * <ul>
 *   <li>{@code hbm}: the device's HBM stacks swapped for another generation (bandwidth and capacity per
 *       stack from the catalog; default every generation it lists, e.g. hbm3, hbm3e, hbm4);</li>
 *   <li>{@code type}: the weight type (default bf16, fp8, fp4 for a shape; F16, Q8_0, Q4_K_M, Q4_0 for a GGUF);</li>
 *   <li>{@code batch}: concurrent sequences per replica (default 1, 4, 16, 64, 256, 1024);</li>
 *   <li>{@code context}: prompt tokens (default 1,024, 4,096, 16,384, 65,536, those within the model's context).</li>
 * </ul>
 */
public final class Sweep {
    /** What is varied. */
    public enum Kind { HBM, TYPE, BATCH, CONTEXT }

    /** One row: the value tried, the device it ran on and the plan it gives. */
    public record Row(String value, Hardware hardware, Plan plan) {
    }

    private Sweep() {
    }

    /** The kind named before '=' in {@code spec}, or an error listing the kinds. */
    public static Kind kind(String spec) {
        String k = spec.split("=", 2)[0].strip().toUpperCase(Locale.ROOT);
        for (Kind kind : Kind.values()) {
            if (kind.name().equals(k)) {
                return kind;
            }
        }
        throw new MemwallException("unknown sweep '" + spec.split("=", 2)[0] + "' (hbm, type, batch, context; e.g. --sweep batch=1,8,64)");
    }

    /** The values of {@code spec} (after '='), or the kind's defaults for {@code w} on {@code d}. */
    public static List<String> values(String spec, Workload w, Deployment d) {
        int eq = spec.indexOf('=');
        if (eq >= 0) {
            List<String> v = Arrays.stream(spec.substring(eq + 1).split(",")).map(String::strip).filter(s -> !s.isEmpty()).toList();
            if (v.isEmpty()) {
                throw new MemwallException("--sweep " + spec + " lists no values");
            }
            return v;
        }
        return switch (kind(spec)) {
            case HBM -> Hardware.hbmGenerations();
            case TYPE -> w.model().fileTypes() ? List.of("F16", "Q8_0", "Q4_K_M", "Q4_0") : List.of("bf16", "fp8", "fp4");
            case BATCH -> List.of("1", "4", "16", "64", "256", "1024");
            case CONTEXT -> List.of(1024, 4096, 16384, 65536).stream()
                    .filter(c -> c + w.outputTokens() <= w.model().config().contextLength()).map(String::valueOf).toList();
        };
    }

    /** Plans {@code w} on {@code d} once per value of {@code spec}. */
    public static List<Row> run(String spec, Workload w, Deployment d) {
        Kind kind = kind(spec);
        List<Row> rows = new ArrayList<>();
        for (String v : values(spec, w, d)) {
            Workload wv = w;
            Deployment dv = d;
            switch (kind) {
                case HBM -> dv = new Deployment(d.hardware().withMemory(Hardware.hbm(v)), d.count(), d.tp(), d.pue(), d.usdPerDeviceHour(),
                        d.efficiency());
                case TYPE -> wv = new Workload(w.model(), WeightType.parse(v), w.kv(), w.inputTokens(), w.outputTokens(), w.concurrency(), w.rate(),
                        w.ttftTarget(), w.tpotTarget());
                case BATCH -> {
                    // One replica at exactly this many sequences: the throughput and latency a batch gives.
                    wv = new Workload(w.model(), w.weights(), w.kv(), w.inputTokens(), w.outputTokens(), positive(v, "batch"), Double.NaN,
                            w.ttftTarget(), w.tpotTarget());
                    dv = d.withTp(d.tp(), d.tp());
                }
                case CONTEXT -> wv = new Workload(w.model(), w.weights(), w.kv(), positive(v, "context"), w.outputTokens(), w.concurrency(),
                        w.rate(), w.ttftTarget(), w.tpotTarget());
            }
            rows.add(new Row(v, dv.hardware(), Plan.of(wv, dv)));
        }
        return rows;
    }

    private static int positive(String v, String what) {
        try {
            int n = Integer.parseInt(v);
            if (n >= 1) {
                return n;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new MemwallException("--sweep " + what + " value '" + v + "' is not a whole number of at least 1");
    }

    /** One JSON object: the kind and each row's value with its plan. */
    public static String toJson(Kind kind, List<Row> rows) {
        StringBuilder sb = new StringBuilder("{\"sweep\": \"" + kind.name().toLowerCase(Locale.ROOT) + "\", \"rows\": [");
        for (int i = 0; i < rows.size(); i++) {
            Plan p = rows.get(i).plan();
            String plan = p.toJson();
            Hardware h = rows.get(i).hardware();
            sb.append(i > 0 ? ", " : "").append("{\"value\": \"").append(Json.escape(rows.get(i).value())).append("\", \"device_memory_bytes\": ")
                    .append(h.memoryBytes()).append(", \"device_bandwidth\": ").append(Json.number(h.bandwidth())).append(", ").append(plan, 1, plan.length());
        }
        return sb.append("]}").toString();
    }
}
