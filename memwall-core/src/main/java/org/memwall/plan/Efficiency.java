package org.memwall.plan;

import java.io.IOException;
import java.io.InputStream;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Properties;
import org.memwall.MemwallException;

/**
 * How far an engine gets from the roofline: the share of the bandwidth its decode reaches, the share
 * of the matrix rate its dense products reach, the share its MoE expert products reach (grouped
 * products of a few tokens per expert run far below the peak), a fixed cost per layer and step (kernel launches,
 * synchronisation, the small operations between products), and a cost per sequence and step (the engine's
 * bookkeeping of each running request: scheduling, sampling, detokenizing, on the host). Fitted to the calibration set
 * ({@link Calibration}); the fitted values live in {@code efficiency.fitted}.
 */
public record Efficiency(String engine, double bandwidth, double compute, double expertCompute, double layerSeconds, double sequenceSeconds) {

    /**
     * A machine memwall measured itself ({@link MachineProfile}): its kernel rates and dispatch cost are memwall's own,
     * so only one thing is scaled: a model's decode reaches {@link #measuredDecodeShare} of the stream rates its
     * one-token kernels reach timed alone.
     */
    public static final Efficiency MEASURED = new Efficiency("memwall (measured)", measuredDecodeShare(), 1, 1, 0, 0);

    /** Roofline as drawn: every byte at full bandwidth, every FLOP at the peak rate, nothing else. */
    public static final Efficiency IDEAL = new Efficiency("ideal", 1, 1, 1, 0, 0);

    /** The fitted factors of {@code engine}, or an error listing the engines. */
    public static Efficiency fitted(String engine) {
        Map<String, Efficiency> all = fittedAll();
        Efficiency e = all.get(engine);
        if (e == null) {
            throw new MemwallException("no fitted efficiency for engine '" + engine + "' (fitted: " + String.join(", ", all.keySet()) + ")");
        }
        return e;
    }

    /**
     * The share of its kernels' stream rates, timed alone, that memwall's decode reaches in a model: the median of
     * bench / plan over the fit runs of {@code this-machine.tsv} ({@link Calibration#machineRuns}; their plans were made
     * with the share 1).
     */
    public static double measuredDecodeShare() {
        double[] ratios = Calibration.machineRuns().stream().filter(Calibration.MachineRun::fit).mapToDouble(r -> r.bench() / r.plan())
                .sorted().toArray();
        if (ratios.length == 0) {
            throw new MemwallException("this-machine.tsv has no fit rows");
        }
        int mid = ratios.length / 2;
        return ratios.length % 2 == 1 ? ratios[mid] : (ratios[mid - 1] + ratios[mid]) / 2;
    }

    static Map<String, Efficiency> fittedAll() {
        Properties p = new Properties();
        try (InputStream in = Efficiency.class.getResourceAsStream("efficiency.fitted")) {
            if (in == null) {
                throw new MemwallException("efficiency.fitted is missing from the build");
            }
            p.load(in);
        } catch (IOException e) {
            throw new MemwallException("cannot read efficiency.fitted: " + e.getMessage(), e);
        }
        Map<String, Efficiency> out = new LinkedHashMap<>();
        for (String key : p.stringPropertyNames().stream().sorted().toList()) {
            String[] v = p.getProperty(key).trim().split("\\s+");
            out.put(key, new Efficiency(key, Double.parseDouble(v[0]), Double.parseDouble(v[1]), Double.parseDouble(v[2]), Double.parseDouble(v[3]),
                    v.length > 4 ? Double.parseDouble(v[4]) : 0));
        }
        return out;
    }
}
