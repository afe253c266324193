package org.memwall.plan;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.memwall.MemwallException;
import org.memwall.gguf.GgmlType;

/**
 * One device the planner sizes deployments on: memory, bandwidth, matrix rates, link and power, each
 * catalog number with its source ({@code hardware.catalog}). A device measured by memwall itself
 * ({@link MachineProfile}) adds per-format kernel rates: the bytes/s its decode kernels stream and
 * the FLOP/s its prefill tiles reach, which replace bandwidth and matrix rate for that format.
 *
 * @param bandwidth    memory read bandwidth, bytes/s
 * @param matrixRates  dense matrix FLOP/s by precision
 * @param link         scale-up link bandwidth per direction, bytes/s (NaN when unknown)
 * @param powerW       board power, W (NaN when unpublished)
 * @param stacks       HBM stacks (0 when unknown), for the HBM what-if sweep
 * @param streamRates  measured decode-kernel bytes/s per weight format (empty for catalog devices)
 * @param tileRates    measured prefill FLOP/s per weight format (empty for catalog devices)
 * @param dispatchSeconds measured fixed seconds of one parallel operation (NaN for catalog devices)
 * @param tokenLayerSeconds measured seconds per token and layer of what a prompt's layer runs besides its weight
 *                     products and attention (norms, RoPE, the activation function, KV stores, copies; 0 for catalog devices)
 * @param promptAttentionRate measured FLOP/s of memwall's attention for a prompt's tokens (a chunk of tokens attending
 *                     together, each over the positions before it; NaN for catalog devices)
 * @param attentionRate measured FLOP/s of memwall's attention over its KV cache (NaN for catalog devices,
 *                      whose attention runs at their BF16 matrix rate)
 * @param sources      every catalog key's source and check
 */
public record Hardware(String id, String name, long memoryBytes, double bandwidth, Map<Precision, Double> matrixRates,
                       double link, double powerW, String memory, int stacks, Map<GgmlType, Double> streamRates,
                       Map<GgmlType, Double> tileRates, double dispatchSeconds, double attentionRate, double promptAttentionRate,
                       double tokenLayerSeconds, Map<String, Source> sources) {

    /** A device whose prompts attend at its decode attention rate (the catalog's, and a measured one's when not told apart). */
    public Hardware(String id, String name, long memoryBytes, double bandwidth, Map<Precision, Double> matrixRates, double link, double powerW,
                    String memory, int stacks, Map<GgmlType, Double> streamRates, Map<GgmlType, Double> tileRates, double dispatchSeconds,
                    double attentionRate, Map<String, Source> sources) {
        this(id, name, memoryBytes, bandwidth, matrixRates, link, powerW, memory, stacks, streamRates, tileRates, dispatchSeconds, attentionRate,
                attentionRate, 0, sources);
    }

    /** Where a catalog number comes from, and how far it was checked (vendor, third-party, unconfirmed). */
    public record Source(String text, String check) {
    }

    /** An HBM generation: bytes/s and bytes of one stack. */
    public record HbmGeneration(String name, double stackBandwidth, long stackBytes) {
    }

    private static final String RESOURCE = "hardware.catalog";
    private static volatile Catalog catalog;

    private record Catalog(Map<String, Hardware> devices, Map<String, HbmGeneration> hbm) {
    }

    /** Whether memwall measured this device itself ({@link MachineProfile}) rather than reading the catalog. */
    public boolean measured() {
        return !streamRates.isEmpty();
    }

    /** The catalog device {@code id}, or an error listing the ids. */
    public static Hardware named(String id) {
        Hardware h = catalog().devices.get(id.toLowerCase(Locale.ROOT));
        if (h == null) {
            throw new MemwallException("unknown hardware '" + id + "' (catalog: " + String.join(", ", ids()) + ", or this-machine)");
        }
        return h;
    }

    public static List<String> ids() {
        return List.copyOf(catalog().devices.keySet());
    }

    /** The HBM generations the catalog lists, oldest first. */
    public static List<String> hbmGenerations() {
        return List.copyOf(catalog().hbm.keySet());
    }

    public static HbmGeneration hbm(String name) {
        HbmGeneration g = catalog().hbm.get(name);
        if (g == null) {
            throw new MemwallException("unknown memory generation '" + name + "' (catalog: " + String.join(", ", catalog().hbm.keySet()) + ")");
        }
        return g;
    }

    /** FLOP/s of a matrix product in {@code p}, or in the next wider precision the device has. */
    public double matrixRate(Precision p, GgmlType format) {
        if (!tileRates.isEmpty()) {
            Double r = format == null ? null : tileRates.get(format);
            if (r == null) {
                throw new MemwallException(id + " has no measured prefill rate for " + (format == null ? "this weight type" : format) + " (measured: " + tileRates.keySet() + ")");
            }
            return r;
        }
        for (Precision q = p; q != null; q = q.wider()) {
            Double r = matrixRates.get(q);
            if (r != null) {
                return r;
            }
        }
        throw new MemwallException(id + " has no matrix rate in the catalog");
    }

    /** Bytes/s at which decode reads weights of {@code format}: the measured kernel rate, else the bandwidth. */
    public double streamRate(GgmlType format) {
        if (streamRates.isEmpty()) {
            return bandwidth;
        }
        Double r = format == null ? null : streamRates.get(format);
        if (r == null) {
            throw new MemwallException(id + " has no measured decode rate for " + (format == null ? "this weight type" : format) + " (measured: " + streamRates.keySet() + ")");
        }
        return r;
    }

    /** The same device with its HBM stacks of another generation (bandwidth and capacity scale per stack). */
    public Hardware withMemory(HbmGeneration g) {
        if (stacks <= 0) {
            throw new MemwallException(id + " has no HBM stack count in the catalog, so its memory cannot be swapped");
        }
        return new Hardware(id + "@" + g.name(), name + " with " + g.name(), stacks * g.stackBytes(), stacks * g.stackBandwidth(), matrixRates,
                link, powerW, g.name(), stacks, streamRates, tileRates, dispatchSeconds, attentionRate,
                promptAttentionRate, tokenLayerSeconds, sources);
    }

    private static Catalog catalog() {
        Catalog c = catalog;
        if (c == null) {
            try (InputStream in = Hardware.class.getResourceAsStream(RESOURCE)) {
                if (in == null) {
                    throw new MemwallException("the hardware catalog " + RESOURCE + " is missing from the build");
                }
                c = parse(new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8)));
            } catch (IOException e) {
                throw new MemwallException("cannot read the hardware catalog: " + e.getMessage(), e);
            }
            catalog = c;
        }
        return c;
    }

    /** Reads {@code [id]} sections of {@code key = value | source | check} lines; see the catalog's header. */
    static Catalog parse(BufferedReader reader) throws IOException {
        Map<String, Map<String, String>> values = new LinkedHashMap<>();
        Map<String, Map<String, Source>> sources = new LinkedHashMap<>();
        String section = null;
        int lineNo = 0;
        for (String line; (line = reader.readLine()) != null; ) {
            lineNo++;
            String l = line.strip();
            if (l.isEmpty() || l.startsWith("#")) {
                continue;
            }
            if (l.startsWith("[") && l.endsWith("]")) {
                section = l.substring(1, l.length() - 1);
                values.put(section, new LinkedHashMap<>());
                sources.put(section, new LinkedHashMap<>());
                continue;
            }
            int eq = l.indexOf('=');
            if (section == null || eq < 0) {
                throw new MemwallException("hardware catalog line " + lineNo + ": expected [id] or key = value | source | check");
            }
            String key = l.substring(0, eq).strip();
            String[] parts = l.substring(eq + 1).split("\\|");
            values.get(section).put(key, parts[0].strip());
            if (!key.equals("name")) {
                if (parts.length != 3 || !List.of("vendor", "third-party", "unconfirmed").contains(parts[2].strip())) {
                    throw new MemwallException("hardware catalog line " + lineNo + ": " + key + " needs '| source | vendor, third-party or unconfirmed'");
                }
                sources.get(section).put(key, new Source(parts[1].strip(), parts[2].strip()));
            }
        }
        Map<String, Hardware> devices = new LinkedHashMap<>();
        Map<String, HbmGeneration> hbm = new LinkedHashMap<>();
        for (var e : values.entrySet()) {
            Map<String, String> v = e.getValue();
            if (e.getKey().startsWith("hbm:")) {
                String g = e.getKey().substring(4);
                hbm.put(g, new HbmGeneration(g, number(v, "stack_tbps", e.getKey()) * 1e12, (long) (number(v, "stack_gb", e.getKey()) * 1e9)));
                continue;
            }
            Map<Precision, Double> rates = new EnumMap<>(Precision.class);
            for (Precision p : Precision.values()) {
                String key = p.name().toLowerCase(Locale.ROOT) + "_tflops";
                if (v.containsKey(key)) {
                    rates.put(p, number(v, key, e.getKey()) * 1e12);
                }
            }
            devices.put(e.getKey(), new Hardware(e.getKey(), v.getOrDefault("name", e.getKey()), (long) (number(v, "memory_gb", e.getKey()) * 1e9),
                    number(v, "bandwidth_tbps", e.getKey()) * 1e12, rates, optional(v, "link_gbps") * 1e9, optional(v, "power_w"),
                    v.getOrDefault("memory", "unknown"), v.containsKey("stacks") ? (int) number(v, "stacks", e.getKey()) : 0,
                    Map.of(), Map.of(), Double.NaN, Double.NaN, Map.copyOf(sources.get(e.getKey()))));
        }
        return new Catalog(devices, hbm);
    }

    private static double number(Map<String, String> v, String key, String section) {
        String s = v.get(key);
        if (s == null) {
            throw new MemwallException("hardware catalog [" + section + "] lacks " + key);
        }
        try {
            return Double.parseDouble(s);
        } catch (NumberFormatException e) {
            throw new MemwallException("hardware catalog [" + section + "] " + key + " = '" + s + "' is not a number");
        }
    }

    private static double optional(Map<String, String> v, String key) {
        return v.containsKey(key) ? Double.parseDouble(v.get(key)) : Double.NaN;
    }
}
