package org.memwall.plan;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import javax.imageio.ImageIO;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.memwall.MemwallException;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;

/** The plots parsed back: marks sit where the plan's numbers (worked here by hand) put them on the panels' axes. */
class PlanPlotTest {
    /** Llama 3.1 8B's matrices a token reads: all elements less norms, RoPE factors and the embedding (one row per token). */
    private static final double MATRICES = 8_030_261_312L - (32L * 2 * 4096 + 4096 + 64) - 128_256L * 4096;
    private static final Workload WORKLOAD = new Workload(ModelSpec.named("llama-3.1-8b"), WeightType.parse("bf16"), KvType.BF16, 1000, 1000, 0,
            Double.NaN, 0.45, 0.04);
    private static final Deployment H200 = new Deployment(Hardware.named("h200"), 1, 1, 1, Double.NaN, Efficiency.fitted("datacenter"));

    @TempDir
    Path dir;

    @Test
    void rooflinePointsSitAtTheirArithmeticIntensityAndTheCeilingsAtTheDevicesRates() throws Exception {
        Document svg = parse(PlanPlot.svg(WORKLOAD, H200));
        Element panel = byId(svg, "roofline");
        // Decode of one sequence at the mean context 1000 + 1000/2: 2 FLOPs per weight plus 4 · 32 heads · 128 · 1500 positions · 32 layers,
        // over the BF16 weights and 32 layers · (K + V) 2048 · 2 bytes · 1500 positions of KV.
        double decodeX = (2 * MATRICES + 4.0 * 32 * 128 * 1500 * 32) / (2 * MATRICES + 32 * 2048 * 2.0 * 1500);
        Element decode = byId(svg, "decode-1");
        assertThat(number(decode, "data-x")).isCloseTo(decodeX, within(1e-9 * decodeX));
        assertThat(number(decode, "cx")).isCloseTo(pixelX(panel, decodeX), within(0.01));
        // Prefill of 1,000 tokens reads the weights once; attention sees 500.5 positions on average; the output matrix
        // (128,256 × 4,096) multiplies the last token only.
        double output = 128_256.0 * 4096;
        double prefillX = (1000 * (2 * (MATRICES - output) + 4.0 * 32 * 128 * 500.5 * 32) + 2 * output) / (2 * MATRICES);
        Element prefill = byId(svg, "prefill");
        assertThat(number(prefill, "data-x")).isCloseTo(prefillX, within(1e-9 * prefillX));
        assertThat(number(prefill, "cx")).isCloseTo(pixelX(panel, prefillX), within(0.01));
        // Its FLOP/s: the prompt's FLOPs over the plan's prefill time (the plan's prefill tokens/s is 1000 tokens over that time).
        Plan plan = Plan.of(WORKLOAD, H200);
        double prefillFlops = prefillX * 2 * MATRICES / (1000 / plan.prefillTokensPerS());
        assertThat(number(prefill, "data-y")).isCloseTo(prefillFlops, within(1e-6 * prefillFlops));
        assertThat(number(prefill, "cy")).isCloseTo(pixelY(panel, prefillFlops), within(0.01));
        // The decode point's FLOP/s is one step's FLOPs at the plan's single-sequence speed.
        double decodeFlops = (2 * MATRICES + 4.0 * 32 * 128 * 1500 * 32) * plan.decodeTokensPerS();
        assertThat(number(decode, "data-y")).isCloseTo(decodeFlops, within(1e-6 * decodeFlops));
        // H200: 989 TFLOP/s BF16 flat from the ridge 989e12 / 4.8e12 on; below it 4.8 TB/s · intensity.
        Element compute = byId(svg, "compute-ceiling");
        assertThat(number(compute, "y1")).isCloseTo(pixelY(panel, 989e12), within(0.01));
        assertThat(number(compute, "x1")).isCloseTo(pixelX(panel, 989e12 / 4.8e12), within(0.01));
        Element bandwidth = byId(svg, "bandwidth-ceiling");
        double x1 = number(panel, "data-x-min");
        assertThat(number(bandwidth, "y1")).isCloseTo(pixelY(panel, 4.8e12 * x1), within(0.01));
        // The engine's ceilings are the fitted shares of both.
        Efficiency e = H200.efficiency();
        assertThat(number(byId(svg, "engine-compute-ceiling"), "y1")).isCloseTo(pixelY(panel, 989e12 * e.compute()), within(0.01));
        assertThat(number(byId(svg, "engine-bandwidth-ceiling"), "data-bytes-per-s")).isCloseTo(4.8e12 * e.bandwidth(), within(1.0));
        // Every point lies on or under the peak roofline.
        for (String id : new String[] {"decode-1", "decode-batch", "prefill"}) {
            Element p = byId(svg, id);
            assertThat(number(p, "data-y")).as(id).isLessThanOrEqualTo(Math.min(989e12, 4.8e12 * number(p, "data-x")) * (1 + 1e-9));
        }
    }

    @Test
    void concurrencyPanelsMarkTheTargetsAndTheLargestConcurrencyMeetingThem() throws Exception {
        Plan plan = Plan.of(WORKLOAD, H200);
        assertThat(plan.maxConcurrency()).isGreaterThan(1);
        Document svg = parse(PlanPlot.svg(WORKLOAD, H200));
        Element throughput = byId(svg, "throughput");
        Element max = byId(svg, "max-concurrency");
        // One device, no load given: the plan serves its largest concurrency, so the mark is the plan's own output.
        assertThat(number(max, "data-x")).isEqualTo(plan.maxConcurrency());
        assertThat(number(max, "data-y")).isCloseTo(plan.outputTokensPerS(), within(1e-6 * plan.outputTokensPerS()));
        assertThat(number(max, "cx")).isCloseTo(pixelX(throughput, plan.maxConcurrency()), within(0.01));
        assertThat(number(max, "cy")).isCloseTo(pixelY(throughput, plan.outputTokensPerS()), within(0.01));
        assertThat(number(byId(svg, "throughput-memory-limit"), "data-x")).isEqualTo(plan.memoryMaxConcurrency());
        Element latency = byId(svg, "latency");
        Element tpot = byId(svg, "tpot-target");
        assertThat(number(tpot, "y1")).isCloseTo(pixelY(latency, 0.04), within(0.01));
        assertThat(number(byId(svg, "ttft-target"), "y1")).isCloseTo(pixelY(latency, 0.45), within(0.01));
        Element atMax = byId(svg, "max-concurrency-tpot");
        assertThat(number(atMax, "data-y")).isCloseTo(plan.tpotS(), within(1e-12)).isLessThanOrEqualTo(0.04);
        // The TPOT curve crosses the target after the largest concurrency: its last point is above the target line (pixel y smaller).
        String[] points = byId(svg, "tpot-curve").getAttribute("points").split(" ");
        assertThat(Double.parseDouble(points[points.length - 1].split(",")[1])).isLessThan(number(tpot, "y1"));
    }

    @Test
    void pngDecodesAtThePlotsSizeWithTheMarksWhereTheSvgPutsThem() throws Exception {
        Path png = dir.resolve("plan.png");
        PlanPlot.write(png, WORKLOAD, H200);
        BufferedImage image = ImageIO.read(new ByteArrayInputStream(Files.readAllBytes(png)));
        assertThat(image).isNotNull();
        assertThat(image.getWidth()).isEqualTo(PlanPlot.WIDTH);
        assertThat(image.getHeight()).isEqualTo(PlanPlot.HEIGHT);
        long inked = 0;
        for (int y = 0; y < image.getHeight(); y++) {
            for (int x = 0; x < image.getWidth(); x++) {
                inked += (image.getRGB(x, y) & 0xffffff) != 0xffffff ? 1 : 0;
            }
        }
        assertThat(inked).as("non-background pixels").isGreaterThan(image.getWidth() * image.getHeight() / 100);
        Document svg = parse(PlanPlot.svg(WORKLOAD, H200));
        for (String id : new String[] {"decode-1", "prefill"}) {
            Element dot = byId(svg, id);
            int rgb = image.getRGB((int) Math.floor(number(dot, "cx")), (int) Math.floor(number(dot, "cy"))) & 0xffffff;
            assertThat(rgb).as(id).isEqualTo(id.equals("prefill") ? PlanPlot.PREFILL : PlanPlot.DECODE);
        }
    }

    @Test
    void svgIsWrittenToItsFileAndOtherNamesAreRefused() throws Exception {
        Path svg = dir.resolve("plan.svg");
        PlanPlot.write(svg, WORKLOAD, H200);
        assertThat(byId(parse(Files.readString(svg)), "roofline")).isNotNull();
        assertThatThrownBy(() -> PlanPlot.write(dir.resolve("plan.pdf"), WORKLOAD, H200)).isInstanceOf(MemwallException.class)
                .hasMessageContaining("must end in .svg or .png");
        assertThatThrownBy(() -> PlanPlot.write(dir.resolve("missing/plan.svg"), WORKLOAD, H200)).isInstanceOf(MemwallException.class)
                .hasMessageStartingWith("cannot write");
    }

    @Test
    void aModelThatDoesNotFitStillGetsItsRoofline() throws Exception {
        Workload big = new Workload(ModelSpec.named("llama-3.1-405b"), WeightType.parse("bf16"), KvType.BF16, 1000, 1000, 0, Double.NaN, Double.NaN,
                Double.NaN);
        Document svg = parse(PlanPlot.svg(big, H200));
        assertThat(byId(svg, "decode-1")).isNotNull();
        assertThat(svg.getDocumentElement().getTextContent()).contains("does not fit");
    }

    private static Document parse(String svg) throws Exception {
        return DocumentBuilderFactory.newInstance().newDocumentBuilder().parse(new ByteArrayInputStream(svg.getBytes(StandardCharsets.UTF_8)));
    }

    private static Element byId(Document d, String id) {
        for (String tag : new String[] {"g", "circle", "line", "polyline"}) {
            NodeList all = d.getElementsByTagName(tag);
            for (int i = 0; i < all.getLength(); i++) {
                Element e = (Element) all.item(i);
                if (id.equals(e.getAttribute("id"))) {
                    return e;
                }
            }
        }
        throw new AssertionError("no element with id " + id);
    }

    private static double number(Element e, String attribute) {
        assertThat(e.hasAttribute(attribute)).as(e.getAttribute("id") + " has " + attribute).isTrue();
        return Double.parseDouble(e.getAttribute(attribute));
    }

    private static Element area(Element panel) {
        NodeList rects = panel.getElementsByTagName("rect");
        for (int i = 0; i < rects.getLength(); i++) {
            Element r = (Element) rects.item(i);
            if (r.getAttribute("class").equals("plot-area")) {
                return r;
            }
        }
        throw new AssertionError("panel without plot area");
    }

    /** Where a value lands on a panel's axis, from the panel's declared range and its plot area. */
    private static double share(Element panel, String axis, double v) {
        double lo = number(panel, "data-" + axis + "-min");
        double hi = number(panel, "data-" + axis + "-max");
        return Boolean.parseBoolean(panel.getAttribute("data-" + axis + "-log")) ? Math.log(v / lo) / Math.log(hi / lo) : (v - lo) / (hi - lo);
    }

    private static double pixelX(Element panel, double v) {
        Element a = area(panel);
        return number(a, "x") + share(panel, "x", v) * number(a, "width");
    }

    private static double pixelY(Element panel, double v) {
        Element a = area(panel);
        return number(a, "y") + number(a, "height") * (1 - share(panel, "y", v));
    }
}
