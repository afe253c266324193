package org.memwall.plan;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.memwall.MemwallException;

/**
 * The calibration set ({@code calibration.tsv}): published results with their full configurations,
 * split into the cases that fit each engine's {@link Efficiency} and held-out cases that are only
 * predicted. The fit minimises the sum of squared log errors over an engine's fit cases by
 * coordinate search; {@code efficiency.fitted} holds its result. Beside it, memwall's own runs on a machine it
 * measured ({@code this-machine.tsv}, {@link #machineRuns}), which fit {@link Efficiency#measuredDecodeShare}.
 */
public final class Calibration {

    /** One published result. */
    public record Case(String id, boolean fit, String engine, String model, String type, String kv, String hardware, int tp,
                       int input, int output, int concurrency, String metric, double value, String source) {
    }

    /** One row of {@code this-machine.tsv}: a plan's decode (share 1) and bench's, tokens/s, and whether it is fitted on. */
    public record MachineRun(String date, String file, boolean fit, double plan, double bench) {
    }

    /** A case's prediction and its relative error (prediction / published − 1). */
    public record Error(Case c, double predicted) {
        public double relative() {
            return predicted / c.value() - 1;
        }
    }

    private final List<Case> cases;
    private final Map<String, ModelSpec> models = new HashMap<>();

    private Calibration(List<Case> cases) {
        this.cases = cases;
    }

    public static Calibration load() {
        List<Case> out = new ArrayList<>();
        for (String[] f : rows("calibration.tsv", 14)) {
            out.add(new Case(f[0], f[1].equals("fit"), f[2], f[3], f[4], f[5], f[6], Integer.parseInt(f[7]), Integer.parseInt(f[8]),
                    Integer.parseInt(f[9]), Integer.parseInt(f[10]), f[11], Double.parseDouble(f[12]), f[13]));
        }
        return new Calibration(List.copyOf(out));
    }

    /** The runs of {@code this-machine.tsv}. */
    public static List<MachineRun> machineRuns() {
        List<MachineRun> out = new ArrayList<>();
        for (String[] f : rows("this-machine.tsv", 5)) {
            out.add(new MachineRun(f[0], f[1], f[2].equals("fit"), Double.parseDouble(f[3]), Double.parseDouble(f[4])));
        }
        return List.copyOf(out);
    }

    /** The tab-separated rows of a resource of this package, comment and blank lines left out, each {@code columns} wide. */
    private static List<String[]> rows(String resource, int columns) {
        try (InputStream in = Calibration.class.getResourceAsStream(resource)) {
            if (in == null) {
                throw new MemwallException(resource + " is missing from the build");
            }
            List<String[]> out = new ArrayList<>();
            BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
            for (String line; (line = r.readLine()) != null; ) {
                if (line.isBlank() || line.startsWith("#")) {
                    continue;
                }
                String[] f = line.split("\t");
                if (f.length != columns) {
                    throw new MemwallException(resource + ": expected " + columns + " columns in '" + line + "'");
                }
                out.add(f);
            }
            return out;
        } catch (IOException e) {
            throw new MemwallException("cannot read " + resource + ": " + e.getMessage(), e);
        }
    }

    public List<Case> cases() {
        return cases;
    }

    /** What the planner predicts for {@code c} with efficiency {@code e}. */
    public double predict(Case c, Efficiency e) {
        ModelSpec m = models.computeIfAbsent(c.model(), ModelSpec::named);
        Workload w = new Workload(m, WeightType.parse(c.type()), KvType.parse(c.kv()), c.input(), c.output(), c.concurrency(), Double.NaN,
                Double.NaN, Double.NaN);
        Plan p = Plan.of(w, new Deployment(Hardware.named(c.hardware()), c.tp(), c.tp(), 1, Double.NaN, e));
        return switch (c.metric()) {
            case "output_per_device" -> p.outputTokensPerS() / p.devices();
            case "user_tokens_per_s" -> 1 / p.tpotS();
            case "ttft_s" -> p.ttftS();
            case "decode_tokens_per_s" -> p.decodeTokensPerS();
            default -> throw new MemwallException("calibration.tsv: unknown metric '" + c.metric() + "' in " + c.id());
        };
    }

    /** Every case predicted with the engine's fitted factors. */
    public List<Error> errors() {
        Map<String, Efficiency> fitted = Efficiency.fittedAll();
        return cases.stream().map(c -> new Error(c, predict(c, fitted.get(c.engine())))).toList();
    }

    /** Fits {@code engine}'s factors on its fit cases: coordinate search in log space, bounded to physical values. */
    public Efficiency fit(String engine) {
        List<Case> fitCases = cases.stream().filter(c -> c.fit() && c.engine().equals(engine)).toList();
        if (fitCases.isEmpty()) {
            throw new MemwallException("no fit cases for engine '" + engine + "'");
        }
        double[] x = {0.5, 0.5, 0.5, 20e-6, 0};
        double[] lo = {0.02, 0.02, 0.02, 0, 0};
        double[] hi = {1, 1, 1, 2e-3, 1e-3};
        double best = loss(engine, fitCases, x);
        for (double step = 2; step > 1.0005; step = Math.sqrt(step)) {
            boolean improved = true;
            while (improved) {
                improved = false;
                for (int i = 0; i < x.length; i++) {
                    for (int dir = -1; dir <= 1; dir += 2) {
                        double[] y = x.clone();
                        y[i] = i >= 3 && y[i] == 0 ? (dir > 0 ? 1e-6 : 0) : y[i] * Math.pow(step, dir);
                        y[i] = Math.clamp(y[i], lo[i], hi[i]);
                        double l = loss(engine, fitCases, y);
                        if (l < best - 1e-12) {
                            best = l;
                            x = y;
                            improved = true;
                        }
                    }
                }
            }
        }
        return new Efficiency(engine, x[0], x[1], x[2], x[3], x[4]);
    }

    private double loss(String engine, List<Case> fitCases, double[] x) {
        Efficiency e = new Efficiency(engine, x[0], x[1], x[2], x[3], x[4]);
        double sum = 0;
        for (Case c : fitCases) {
            double err = Math.log(predict(c, e) / c.value());
            sum += err * err;
        }
        return sum;
    }
}
