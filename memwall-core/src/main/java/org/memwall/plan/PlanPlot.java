package org.memwall.plan;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.TreeSet;
import org.memwall.MemwallException;

/**
 * The plan's plots, side by side in one picture: (a) the roofline of one device (attainable FLOP/s
 * against arithmetic intensity, log-log) with its bandwidth and compute ceilings, the engine's
 * efficiency-scaled ceilings, and the workload's decode (one sequence and the operating batch) and
 * prefill points; (b) a replica's output tokens/s and (c) its time per output token and time to first
 * token against concurrency, up to what memory holds, with the latency targets and the largest
 * concurrency that meets them. SVG is written by {@link SvgCanvas}; PNG is drawn with Java 2D and
 * encoded by {@code javax.imageio}, headless.
 */
public final class PlanPlot {
    static final int WIDTH = 1500;
    static final int HEIGHT = 520;
    static final int INK = 0x222222;
    static final int GRID = 0xe0e0e0;
    static final int BANDWIDTH = 0x1f77b4;
    static final int COMPUTE = 0xd62728;
    static final int DECODE = 0x2ca02c;
    static final int BATCH = 0x8c564b;
    static final int PREFILL = 0x9467bd;
    static final int TTFT = 0xff7f0e;
    private static final double LEFT = 80;
    private static final double TOP = 50;
    private static final double PANEL = WIDTH / 3.0;
    private static final double PLOT_W = PANEL - LEFT - 22;
    private static final double PLOT_H = HEIGHT - TOP - 62;

    private PlanPlot() {
    }

    /** Whether {@code file} names an SVG (true) or a PNG (false); anything else is an error. */
    public static boolean checkName(Path file) {
        String name = file.getFileName() == null ? "" : file.getFileName().toString().toLowerCase(Locale.ROOT);
        boolean svg = name.endsWith(".svg");
        if (!svg && !name.endsWith(".png")) {
            throw new MemwallException("--plot " + file + ": the file must end in .svg or .png");
        }
        return svg;
    }

    /** Writes the plots of {@code w} on {@code d} to {@code file}: .svg or .png by its name. */
    public static void write(Path file, Workload w, Deployment d) {
        boolean svg = checkName(file);
        try {
            if (svg) {
                Files.writeString(file, svg(w, d));
            } else {
                Png.write(file, w, d);
            }
        } catch (IOException e) {
            throw new MemwallException("cannot write " + file + ": " + e.getMessage(), e);
        }
    }

    /** The plots as an SVG document. */
    public static String svg(Workload w, Deployment d) {
        SvgCanvas c = new SvgCanvas(WIDTH, HEIGHT);
        draw(c, w, d);
        return c.toString();
    }

    /** PNG through java.awt and javax.imageio, kept apart so that SVG never loads java.desktop. */
    static final class Png {
        private Png() {
        }

        static java.awt.image.BufferedImage image(Workload w, Deployment d) {
            if (ModuleLayer.boot().findModule("java.desktop").isEmpty()) {
                throw new MemwallException("this Java runtime has no java.desktop module to draw PNG; write an .svg plot instead");
            }
            System.setProperty("java.awt.headless", "true");
            ImageCanvas c = new ImageCanvas(WIDTH, HEIGHT);
            draw(c, w, d);
            return c.image();
        }

        static void write(Path file, Workload w, Deployment d) throws IOException {
            java.awt.image.BufferedImage image = image(w, d);
            if (!javax.imageio.ImageIO.write(image, "png", file.toFile())) {
                throw new MemwallException("this Java runtime has no PNG writer; write an .svg plot instead");
            }
        }
    }

    static void draw(Canvas c, Workload w, Deployment d) {
        Plan plan = Plan.of(w, d);
        Plan.Sizing s = new Plan.Sizing(w, d);
        roofline(c, w, d, plan, s);
        concurrency(c, w, d, plan, s);
    }

    /** A point of the roofline: intensity (FLOP/byte) and the FLOP/s one device reaches. */
    record Point(String id, String label, double intensity, double flopsPerS, int color) {
    }

    static List<Point> points(Workload w, Deployment d, Plan plan, Plan.Sizing s) {
        Roofline r = s.r;
        int tp = d.tp();
        List<Point> out = new ArrayList<>();
        out.add(new Point("decode-1", "decode, 1 sequence", r.decodeFlops(1, s.context) / r.decodeBytes(1, s.context),
                r.decodeFlops(1, s.context) / tp / r.decodeStep(1, s.context), DECODE));
        int b = operatingBatch(plan);
        if (b > 1) {
            out.add(new Point("decode-batch", "decode, " + b + " sequences", r.decodeFlops(b, s.context) / r.decodeBytes(b, s.context),
                    r.decodeFlops(b, s.context) / tp / r.decodeStep(b, s.context), BATCH));
        }
        int n = w.inputTokens();
        out.add(new Point("prefill", "prefill, " + n + " tokens", r.prefillFlops(n) / r.prefillBytes(n), r.prefillFlops(n) / tp / s.prefill, PREFILL));
        return out;
    }

    /** Sequences per replica at the plan's operating load. */
    static int operatingBatch(Plan plan) {
        return Math.max(1, plan.concurrency() / Math.max(1, plan.replicas()));
    }

    /** Peak FLOP/s of the device for the weights' precision (a measured machine: its tile rate for the largest matrices' format). */
    static double computeCeiling(Workload w, Deployment d) {
        ModelSpec.Matrix largest = w.model().tensors().stream().filter(m -> m.role() != ModelSpec.Role.SMALL)
                .max((a, b) -> Long.compare(w.weights().bytes(a, w.model()), w.weights().bytes(b, w.model()))).orElseThrow();
        return d.hardware().matrixRate(w.weights().compute(), w.weights().format(largest, w.model()));
    }

    /** The precision the compute ceiling is in: the weights' own, or the next wider the device has; a measured machine's weight format. */
    private static String computeLabel(Workload w, Deployment d) {
        if (d.hardware().measured()) {
            return "(measured)";
        }
        Precision q = w.weights().compute();
        while (q.wider() != null && !d.hardware().matrixRates().containsKey(q)) {
            q = q.wider();
        }
        return q.name();
    }

    private static void roofline(Canvas c, Workload w, Deployment d, Plan plan, Plan.Sizing s) {
        double bw = d.hardware().bandwidth();
        double peak = computeCeiling(w, d);
        Efficiency e = d.efficiency();
        List<Point> points = points(w, d, plan, s);
        double ridge = peak / bw;
        double lo = ridge;
        double hi = ridge;
        double low = peak * Math.min(1, e.compute());
        for (Point p : points) {
            lo = Math.min(lo, p.intensity());
            hi = Math.max(hi, p.intensity());
            low = Math.min(low, p.flopsPerS());
        }
        Axis x = Axis.log(lo / 3, hi * 3);
        low = Math.min(low, bw * e.bandwidth() * x.min());
        Axis y = Axis.log(low / 1.5, peak * 1.5);
        Panel p = new Panel("roofline", 0, x, y);
        p.frame(c, String.format(Locale.ROOT, "Roofline: %s %s on %s, per device", w.model().name(), w.weights().label(), d.hardware().id()),
                "arithmetic intensity (FLOP/byte)", "attainable FLOP/s");
        ceiling(c, p, bw, peak, BANDWIDTH, COMPUTE, false, "bandwidth-ceiling", "compute-ceiling");
        double labelX = x.min() * 2;
        c.text(p.x(labelX) + 4, p.y(bw * labelX) + 16, si(bw) + "B/s", 11, BANDWIDTH, Canvas.Anchor.START, false);
        c.text(p.x(x.max()) - 6, p.y(peak) - 6, si(peak) + "FLOP/s " + computeLabel(w, d), 11, COMPUTE, Canvas.Anchor.END, false);
        double row = TOP + PLOT_H - 10 - 16 * (points.size() - 1);
        if (e.bandwidth() != 1 || e.compute() != 1) {
            ceiling(c, p, bw * e.bandwidth(), peak * e.compute(), BANDWIDTH, COMPUTE, true, "engine-bandwidth-ceiling", "engine-compute-ceiling");
            c.text(p.left() + PLOT_W - 8, row - 20, String.format(Locale.ROOT, "dashed: %s, %.0f%% of bandwidth, %.0f%% of compute", e.engine(),
                    100 * e.bandwidth(), 100 * e.compute()), 10, INK, Canvas.Anchor.END, false);
        }
        for (Point q : points) {
            c.dot(p.x(q.intensity()), p.y(q.flopsPerS()), 5, q.color(), "id", q.id(), "data-x", Double.toString(q.intensity()), "data-y",
                    Double.toString(q.flopsPerS()));
            c.dot(p.left() + PLOT_W - 150, row - 4, 4, q.color());
            c.text(p.left() + PLOT_W - 142, row, q.label(), 11, INK, Canvas.Anchor.START, false);
            row += 16;
        }
        c.end();
    }

    /** A roofline's two ceilings: bytes/s · intensity up to the ridge, then the flat compute rate. */
    private static void ceiling(Canvas c, Panel p, double bw, double peak, int bwColor, int peakColor, boolean dashed, String bwId, String peakId) {
        double ridge = Math.min(peak / bw, p.xAxis().max());
        double from = p.xAxis().min();
        c.line(p.x(from), p.y(bw * from), p.x(ridge), p.y(bw * ridge), bwColor, 2, dashed, "id", bwId, "data-bytes-per-s", Double.toString(bw));
        if (ridge < p.xAxis().max()) {
            c.line(p.x(ridge), p.y(peak), p.x(p.xAxis().max()), p.y(peak), peakColor, 2, dashed, "id", peakId, "data-y", Double.toString(peak));
        }
    }

    private static void concurrency(Canvas c, Workload w, Deployment d, Plan plan, Plan.Sizing s) {
        int cap = plan.memoryMaxConcurrency();
        String where = String.format(Locale.ROOT, "one replica of %d x %s, %d/%d tokens", d.tp(), d.hardware().id(), w.inputTokens(), w.outputTokens());
        if (cap < 1) {
            for (int i = 1; i <= 2; i++) {
                Panel p = new Panel(i == 1 ? "throughput" : "latency", i, Axis.log(1, 10), Axis.linear(0, 1));
                p.frame(c, where, "concurrent sequences", "");
                c.text(p.left() + PLOT_W / 2, TOP + PLOT_H / 2, "does not fit: no sequence has room", 14, COMPUTE, Canvas.Anchor.MIDDLE, false);
                c.end();
            }
            return;
        }
        TreeSet<Integer> batches = new TreeSet<>();
        for (int i = 0; i <= 80; i++) {
            batches.add((int) Math.round(Math.pow(cap, i / 80.0)));
        }
        int max = plan.maxConcurrency();
        if (max > 0) {
            batches.add(max);
        }
        batches.add(Math.min(cap, operatingBatch(plan)));
        int n = batches.size();
        double[] bs = new double[n];
        double[] tokens = new double[n];
        double[] tpot = new double[n];
        double[] ttft = new double[n];
        int i = 0;
        for (int b : batches) {
            Plan.Point q = s.point(b);
            bs[i] = b;
            tokens[i] = q.tokensPerS();
            tpot[i] = q.tpotS();
            ttft[i] = q.ttftS();
            i++;
        }
        Axis x = Axis.log(1, Math.max(10, cap));
        double top = 0;
        for (double t : tokens) {
            top = Math.max(top, t);
        }
        Panel tp = new Panel("throughput", 1, x, Axis.linear(0, top * 1.08));
        tp.frame(c, "Throughput: " + where, "concurrent sequences per replica", "output tokens/s per replica");
        c.polyline(tp.xs(bs), tp.ys(tokens), BANDWIDTH, 2, false, "id", "throughput-curve");
        limits(c, tp, max, cap, max > 0 ? s.point(max).tokensPerS() : Double.NaN, "max-concurrency");
        c.end();

        double lo = Double.MAX_VALUE;
        double hi = 0;
        for (int k = 0; k < n; k++) {
            lo = Math.min(lo, Math.min(tpot[k], ttft[k]));
            hi = Math.max(hi, Math.max(tpot[k], ttft[k]));
        }
        for (double t : new double[] {w.ttftTarget(), w.tpotTarget()}) {
            if (!Double.isNaN(t)) {
                lo = Math.min(lo, t);
                hi = Math.max(hi, t);
            }
        }
        Panel lat = new Panel("latency", 2, x, Axis.log(lo / 1.5, hi * 1.5));
        lat.frame(c, "Latency: " + where, "concurrent sequences per replica", "seconds (m: milli)");
        c.polyline(lat.xs(bs), lat.ys(tpot), BANDWIDTH, 2, false, "id", "tpot-curve");
        c.polyline(lat.xs(bs), lat.ys(ttft), TTFT, 2, false, "id", "ttft-curve");
        target(c, lat, w.tpotTarget(), BANDWIDTH, "tpot-target", "TPOT target");
        target(c, lat, w.ttftTarget(), TTFT, "ttft-target", "TTFT target");
        limits(c, lat, max, cap, max > 0 ? s.point(max).tpotS() : Double.NaN, "max-concurrency-tpot");
        double legend = TOP + 18;
        c.line(lat.left() + 10, legend - 4, lat.left() + 34, legend - 4, BANDWIDTH, 2, false);
        c.text(lat.left() + 40, legend, "time per output token", 11, INK, Canvas.Anchor.START, false);
        c.line(lat.left() + 10, legend + 12, lat.left() + 34, legend + 12, TTFT, 2, false);
        c.text(lat.left() + 40, legend + 16, "time to first token", 11, INK, Canvas.Anchor.START, false);
        c.end();
    }

    /** The memory's limit and the largest concurrency meeting the targets (a dot on the curve at {@code value}). */
    private static void limits(Canvas c, Panel p, int max, int cap, double value, String id) {
        c.line(p.x(cap), TOP, p.x(cap), TOP + PLOT_H, INK, 1, true, "id", p.id() + "-memory-limit", "data-x", Integer.toString(cap));
        c.text(p.x(cap) - 4, TOP + 14, "memory: " + cap, 10, INK, Canvas.Anchor.END, false);
        if (max > 0) {
            c.dot(p.x(max), p.y(value), 5, COMPUTE, "id", id, "data-x", Integer.toString(max), "data-y", Double.toString(value));
            c.text(p.x(max) + 7, p.y(value) + 16, "targets met up to " + max, 10, COMPUTE, Canvas.Anchor.START, false);
        }
    }

    private static void target(Canvas c, Panel p, double seconds, int color, String id, String label) {
        if (Double.isNaN(seconds)) {
            return;
        }
        c.line(p.left(), p.y(seconds), p.left() + PLOT_W, p.y(seconds), color, 1.5, true, "id", id, "data-y", Double.toString(seconds));
        c.text(p.left() + PLOT_W - 4, p.y(seconds) - 4, label + " " + ms(seconds), 10, color, Canvas.Anchor.END, false);
    }

    /** One axis: its data range, linear or log10. */
    record Axis(double min, double max, boolean log) {
        static Axis log(double lo, double hi) {
            double a = Math.pow(10, Math.floor(Math.log10(lo)));
            double b = Math.pow(10, Math.ceil(Math.log10(hi)));
            return new Axis(a, b > a ? b : a * 10, true);
        }

        static Axis linear(double lo, double hi) {
            double step = niceStep((hi - lo) / 5);
            return new Axis(Math.floor(lo / step) * step, Math.ceil(hi / step) * step, false);
        }

        /** Position of {@code v} between min (0) and max (1). */
        double share(double v) {
            return log ? (Math.log10(v) - Math.log10(min)) / (Math.log10(max) - Math.log10(min)) : (v - min) / (max - min);
        }

        List<Double> ticks() {
            List<Double> out = new ArrayList<>();
            if (log) {
                int decades = (int) Math.round(Math.log10(max / min));
                int every = decades > 8 ? 2 : 1;
                for (int k = 0; k <= decades; k += every) {
                    out.add(min * Math.pow(10, k));
                }
            } else {
                double step = niceStep((max - min) / 5);
                for (double v = min; v <= max + step / 2; v += step) {
                    out.add(v);
                }
            }
            return out;
        }

        private static double niceStep(double raw) {
            if (!(raw > 0)) {
                return 1;
            }
            double p = Math.pow(10, Math.floor(Math.log10(raw)));
            double f = raw / p;
            return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * p;
        }
    }

    /** A plot area: the i-th of three side by side, with its axes. */
    record Panel(String id, int index, Axis xAxis, Axis yAxis) {
        double left() {
            return index * PANEL + LEFT;
        }

        double x(double v) {
            return left() + xAxis.share(v) * PLOT_W;
        }

        double y(double v) {
            return TOP + PLOT_H - yAxis.share(v) * PLOT_H;
        }

        double[] xs(double[] v) {
            double[] out = new double[v.length];
            for (int i = 0; i < v.length; i++) {
                out[i] = x(v[i]);
            }
            return out;
        }

        double[] ys(double[] v) {
            double[] out = new double[v.length];
            for (int i = 0; i < v.length; i++) {
                out[i] = y(v[i]);
            }
            return out;
        }

        /** Opens the panel's group and draws its frame, grid, ticks and titles; the caller draws the data and calls end. */
        void frame(Canvas c, String title, String xTitle, String yTitle) {
            c.begin("id", id, "data-x-min", Double.toString(xAxis.min()), "data-x-max", Double.toString(xAxis.max()), "data-x-log",
                    Boolean.toString(xAxis.log()), "data-y-min", Double.toString(yAxis.min()), "data-y-max", Double.toString(yAxis.max()),
                    "data-y-log", Boolean.toString(yAxis.log()));
            double right = left() + PLOT_W;
            double bottom = TOP + PLOT_H;
            for (double t : xAxis.ticks()) {
                c.line(x(t), TOP, x(t), bottom, GRID, 1, false);
                c.text(x(t), bottom + 16, si(t), 11, INK, Canvas.Anchor.MIDDLE, false);
            }
            for (double t : yAxis.ticks()) {
                c.line(left(), y(t), right, y(t), GRID, 1, false);
                c.text(left() - 6, y(t) + 4, si(t), 11, INK, Canvas.Anchor.END, false);
            }
            c.rect(left(), TOP, PLOT_W, PLOT_H, INK, "class", "plot-area");
            c.text(left() + PLOT_W / 2, TOP - 18, title, 12, INK, Canvas.Anchor.MIDDLE, false);
            c.text(left() + PLOT_W / 2, bottom + 40, xTitle, 12, INK, Canvas.Anchor.MIDDLE, false);
            c.text(left() - 58, TOP + PLOT_H / 2, yTitle, 12, INK, Canvas.Anchor.MIDDLE, true);
        }
    }

    /** 1, 20, 500, 1k, 2.5M, 1T, 1P; milli and micro below 1. */
    static String si(double v) {
        if (v == 0) {
            return "0";
        }
        String[] big = {"", "k", "M", "G", "T", "P", "E"};
        int k = 0;
        double a = v;
        while (Math.abs(a) >= 1000 && k < big.length - 1) {
            a /= 1000;
            k++;
        }
        if (k == 0 && Math.abs(v) < 1) {
            return Math.abs(v) >= 1e-3 ? trim(v * 1e3) + " m" : trim(v * 1e6) + " µ";
        }
        return trim(a) + (k > 0 ? " " + big[k] : "");
    }

    private static String trim(double v) {
        String s = String.format(Locale.ROOT, "%.3g", v);
        if (s.contains(".") && !s.contains("e")) {
            s = s.replaceAll("0+$", "").replaceAll("\\.$", "");
        }
        return s;
    }

    private static String ms(double seconds) {
        return String.format(Locale.ROOT, "%.0f ms", seconds * 1e3);
    }
}
