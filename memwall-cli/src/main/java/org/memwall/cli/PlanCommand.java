package org.memwall.cli;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.Set;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.memwall.MemwallException;
import org.memwall.gguf.GgmlType;
import org.memwall.plan.Deployment;
import org.memwall.plan.Efficiency;
import org.memwall.plan.Fleet;
import org.memwall.plan.Hardware;
import org.memwall.plan.KvType;
import org.memwall.plan.MachineProfile;
import org.memwall.plan.ModelSpec;
import org.memwall.plan.Plan;
import org.memwall.plan.PlanPlot;
import org.memwall.plan.Sweep;
import org.memwall.plan.WeightType;
import org.memwall.plan.Workload;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "plan", description = "Size a deployment from the memory wall up: memory fit, speed, concurrency at latency targets, devices, power, cost.")
final class PlanCommand implements Callable<Integer> {
    @Option(names = "--model", required = true, split = ",", paramLabel = "MODEL", description = "GGUF path or shape name (comma-separated: a fleet's model mix)")
    List<String> models;

    @Option(names = "--type", split = ",", paramLabel = "TYPE", description = "weights: Q8_0, Q4_0, Q4_K_M, F16, BF16, bf16, fp8, fp4, mxfp4, file (default: file for a GGUF, bf16 for a shape); one per model in a mix, or one for all")
    List<String> types;

    @Option(names = "--kv-type", paramLabel = "TYPE", description = "KV cache: f32, f16, bf16, fp8, q8_0, q4_0 (default bf16; on this-machine memwall's own default, f16)")
    String kvType;

    @Option(names = "--hardware", required = true, paramLabel = "NAME", description = "catalog id (h100-sxm, h200, b200, mi300x, rngd, ...) or this-machine (measured by memwall now: bandwidth, kernel rates)")
    String hardware;

    @Option(names = {"-t", "--threads"}, defaultValue = "0", paramLabel = "N", description = "compute threads for --hardware this-machine (default: one per core)")
    int threads;

    @Option(names = "--count", defaultValue = "0", paramLabel = "N", description = "devices (default: as many as the load needs)")
    int count;

    @Option(names = "--tp", defaultValue = "1", paramLabel = "N", description = "tensor-parallel degree of a replica (default ${DEFAULT-VALUE})")
    int tp;

    @Option(names = "--input-tokens", defaultValue = "1000", paramLabel = "N", description = "prompt tokens (default ${DEFAULT-VALUE})")
    int input;

    @Option(names = "--output-tokens", defaultValue = "1000", paramLabel = "N", description = "output tokens (default ${DEFAULT-VALUE})")
    int output;

    @Option(names = "--concurrency", defaultValue = "0", paramLabel = "N", description = "concurrent sequences to serve")
    int concurrency;

    @Option(names = "--rate", paramLabel = "R", description = "requests per second to serve")
    Double rate;

    @Option(names = "--ttft", paramLabel = "S", description = "time-to-first-token target, seconds")
    Double ttft;

    @Option(names = "--tpot", paramLabel = "S", description = "time-per-output-token target, seconds")
    Double tpot;

    @Option(names = "--price", paramLabel = "USD_PER_HOUR", description = "price per device-hour")
    Double price;

    @Option(names = "--pue", defaultValue = "1.0", paramLabel = "P", description = "power usage effectiveness of the data centre (default ${DEFAULT-VALUE})")
    double pue;

    @Option(names = "--engine", defaultValue = "datacenter", paramLabel = "NAME", description = "efficiency class fitted on the calibration set: datacenter, llama.cpp (default ${DEFAULT-VALUE})")
    String engine;

    @Option(names = "--power-budget", paramLabel = "W", description = "fleet mode: devices fed by this many watts at the wall (e.g. 3e9 for 3 GW)")
    Double powerBudget;

    @Option(names = "--sweep", paramLabel = "KIND[=V,...]", description = "what-if table, one plan per value: hbm (generations, e.g. hbm=hbm3,hbm3e,hbm4), type (weight types), batch (sequences per replica), context (prompt tokens)")
    String sweep;

    @Option(names = "--plot", paramLabel = "FILE", description = "also draw the roofline with the workload's points and throughput and latency against concurrency: FILE.svg or FILE.png")
    Path plot;

    @Option(names = "--json", description = "print one JSON object instead of a table")
    boolean json;

    @Option(names = "--verbose", description = "print stack traces on errors")
    boolean verbose;

    @Override
    public Integer call() {
        boolean thisMachine = hardware.equalsIgnoreCase(MachineProfile.ID);
        if (threads < 0) {
            throw new MemwallException("--threads must be at least 1");
        }
        Hardware catalogDevice = thisMachine ? null : Hardware.named(hardware);
        String kv = kvType != null ? kvType : thisMachine ? org.memwall.model.KvType.DEFAULT.label() : "bf16";
        List<Workload> workloads = new ArrayList<>();
        if (types != null && types.size() != 1 && types.size() != models.size()) {
            throw new MemwallException("--type gives " + types.size() + " types for " + models.size() + " models (give one, or one per model)");
        }
        if (plot != null) {
            PlanPlot.checkName(plot);
            if (models.size() > 1 || powerBudget != null || sweep != null) {
                throw new MemwallException("--plot draws one plan; not with a model mix, --power-budget or --sweep");
            }
        }
        Set<GgmlType> formats = EnumSet.noneOf(GgmlType.class);
        List<MachineProfile.Product> prompt = new ArrayList<>();
        org.memwall.model.ModelConfig layer = null;
        GgmlType layerFormat = null;
        for (int i = 0; i < models.size(); i++) {
            ModelSpec spec = ModelSpec.of(models.get(i));
            String type = types == null ? null : types.get(types.size() == 1 ? 0 : i);
            WeightType w = WeightType.parse(type != null ? type : spec.fileTypes() ? "file" : "bf16");
            workloads.add(new Workload(spec, w, KvType.parse(kv), input, output, concurrency, rate == null ? Double.NaN : rate,
                    ttft == null ? Double.NaN : ttft, tpot == null ? Double.NaN : tpot));
            formats.addAll(w.formats(spec));
            if (thisMachine) {
                prompt.addAll(MachineProfile.products(spec, w));
                if (layer == null) { // the first model's layer shape, its feed-forward's format
                    layer = spec.config();
                    layerFormat = spec.tensors().stream().filter(m -> m.layer() == 0 && m.role() == ModelSpec.Role.FFN).findFirst()
                            .map(m -> w.format(m, spec)).orElse(null);
                }
            }
        }
        if (sweep != null && Sweep.kind(sweep) == Sweep.Kind.TYPE && sweep.contains("=")) {
            for (String t : sweep.substring(sweep.indexOf('=') + 1).split(",")) {
                formats.addAll(WeightType.parse(t.strip()).formats(workloads.getFirst().model()));
            }
        }
        // this-machine is measured once the input is known good, and only for the formats the models use.
        Hardware hw = thisMachine ? MachineProfile.measure(threads > 0 ? threads : Runtime.getRuntime().availableProcessors(),
                MachineProfile.STREAM_BYTES, formats, org.memwall.model.KvType.parse(kv), prompt,
                MachineProfile.promptChunk(input), layer, layerFormat) : catalogDevice;
        Deployment d = new Deployment(hw, count, tp, pue, price == null ? Double.NaN : price, thisMachine ? Efficiency.MEASURED : Efficiency.fitted(engine));
        if (workloads.size() > 1 || powerBudget != null) {
            if (sweep != null) {
                throw new MemwallException("--sweep plans one model; fleet mode (a model mix or --power-budget) does not sweep");
            }
            return fleet(workloads, d);
        }
        if (sweep != null) {
            return sweep(workloads.getFirst(), d);
        }
        Plan p = Plan.of(workloads.getFirst(), d);
        if (plot != null) {
            PlanPlot.write(plot, workloads.getFirst(), d);
        }
        if (json) {
            System.out.println(p.toJson());
            return 0;
        }
        printTable(p);
        if (plot != null) {
            System.out.println("plot:               " + plot);
        }
        return 0;
    }

    private int fleet(List<Workload> workloads, Deployment d) {
        if (concurrency > 0 || rate != null) {
            throw new MemwallException("fleet mode answers what a fleet serves; give --count or --power-budget, not --concurrency or --rate");
        }
        int devices = powerBudget != null ? Fleet.devicesFor(powerBudget, d) : count;
        if (devices < workloads.size()) {
            throw new MemwallException("fleet mode needs --count N or --power-budget W giving at least one device per model");
        }
        List<Fleet.Share> shares = Fleet.serve(workloads, d, devices);
        if (json) {
            StringBuilder sb = new StringBuilder("{\"devices\": " + devices + ", \"models\": [");
            for (int i = 0; i < shares.size(); i++) {
                Fleet.Share s = shares.get(i);
                sb.append(i > 0 ? ", " : "").append(String.format(Locale.ROOT, "{\"model\": \"%s\", \"tp\": %d, \"devices\": %d, \"replicas\": %d, "
                                + "\"users\": %d, \"output_tokens_per_s\": %.1f, \"power_w\": %.1f, \"ttft_s\": %.4f, \"tpot_s\": %.5f}",
                        s.perReplica().model(), s.perReplica().tp(), s.devices(), s.replicas(), s.users(), s.outputTokensPerS(), s.powerW(),
                        s.perReplica().ttftS(), s.perReplica().tpotS()));
            }
            System.out.println(sb.append("]}"));
            return 0;
        }
        System.out.printf(Locale.ROOT, "fleet: %,d %s devices%s%n", devices, d.hardware().id(),
                powerBudget != null ? String.format(Locale.ROOT, " (%.3g W at PUE %.2f)", powerBudget, pue) : "");
        System.out.printf(Locale.ROOT, "%-18s %4s %9s %12s %16s %14s %9s %9s%n", "model", "tp", "devices", "users", "output tokens/s", "power (MW)", "ttft", "tpot");
        for (Fleet.Share s : shares) {
            Plan p = s.perReplica();
            System.out.printf(Locale.ROOT, "%-18s %4d %,9d %,12d %,16.0f %14.2f %7.0fms %7.1fms%n", p.model(), p.tp(), s.devices(), s.users(),
                    s.outputTokensPerS(), s.powerW() / 1e6, p.ttftS() * 1e3, p.tpotS() * 1e3);
        }
        return 0;
    }

    private int sweep(Workload w, Deployment d) {
        Sweep.Kind kind = Sweep.kind(sweep);
        List<Sweep.Row> rows = Sweep.run(sweep, w, d);
        if (json) {
            System.out.println(Sweep.toJson(kind, rows));
            return 0;
        }
        Plan first = rows.getFirst().plan();
        System.out.printf(Locale.ROOT, "what-if %s: %s on %s x%d (tp %d), %d/%d tokens%n", kind.name().toLowerCase(Locale.ROOT), first.model(), d.hardware().id(),
                d.count(), d.tp(), w.inputTokens(), w.outputTokens());
        System.out.printf(Locale.ROOT, "%-10s %9s %8s %6s %9s %10s %9s %8s %12s %8s %8s %11s%n", kind.name().toLowerCase(Locale.ROOT), "memory", "TB/s",
                "fits", "weights", "KV/seq", "decode/s", "max conc", "output tok/s", "ttft", "tpot", "tok/s/dev");
        for (Sweep.Row r : rows) {
            Plan p = r.plan();
            System.out.printf(Locale.ROOT, "%-10s %7.0fGB %8.2f %6s %7.1fGB %8.2fGB %9.1f %8d %12.0f %6.0fms %6.1fms %11.0f%n", r.value(),
                    r.hardware().memoryBytes() / 1e9, r.hardware().bandwidth() / 1e12,
                    p.fits() && p.concurrency() <= (long) p.replicas() * p.memoryMaxConcurrency() ? "yes" : "NO", p.weightBytesPerDevice() / 1e9,
                    p.kvBytesPerSequence() / 1e9, p.decodeTokensPerS(), p.maxConcurrency(), p.outputTokensPerS(), p.ttftS() * 1e3, p.tpotS() * 1e3,
                    p.outputTokensPerS() / p.devices());
        }
        return 0;
    }

    private static void printTable(Plan p) {
        System.out.printf(Locale.ROOT, "model:              %s (%s weights, %s KV) on %s, tp %d%n", p.model(), p.weights(), p.kv(), p.hardware(), p.tp());
        System.out.printf(Locale.ROOT, "memory per device:  %.1f GB (weights %.1f GB, KV %.2f GB per sequence)%s%n", p.memoryBytesPerDevice() / 1e9,
                p.weightBytesPerDevice() / 1e9, p.kvBytesPerSequence() / 1e9 / p.tp(),
                p.fits() ? "" : String.format(Locale.ROOT, " - does NOT fit: %.1f GB short", p.memoryShortfallBytes() / 1e9));
        System.out.printf(Locale.ROOT, "one sequence:       decode %.1f tokens/s, prefill %.0f tokens/s%n", p.decodeTokensPerS(), p.prefillTokensPerS());
        System.out.printf(Locale.ROOT, "max concurrency:    %d per replica meeting the targets (memory alone: %d)%n", p.maxConcurrency(), p.memoryMaxConcurrency());
        System.out.printf(Locale.ROOT, "deployment:         %d devices, %d replicas, %d sequences%s%n", p.devices(), p.replicas(), p.concurrency(),
                p.meetsTargets() ? "" : " - targets NOT met");
        System.out.printf(Locale.ROOT, "serves:             %.0f output tokens/s, ttft %.0f ms, tpot %.1f ms%n", p.outputTokensPerS(), p.ttftS() * 1e3, p.tpotS() * 1e3);
        System.out.printf(Locale.ROOT, "power at the wall:  %.1f kW, %.1f J per 1,000 tokens%n", p.powerW() / 1e3, p.joulesPerToken() * 1e3);
        if (!Double.isNaN(p.usdPerMillionTokens())) {
            System.out.printf(Locale.ROOT, "cost:               $%.3f per million output tokens%n", p.usdPerMillionTokens());
        }
    }
}
