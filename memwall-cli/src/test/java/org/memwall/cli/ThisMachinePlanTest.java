package org.memwall.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.api.io.TempDir;
import org.memwall.synth.ModelShape;
import org.memwall.synth.SyntheticModel;

/**
 * The check of {@code plan --hardware this-machine}: its decode and prefill predictions against
 * {@code memwall bench} on the same files, for Q8_0, Q4_0 and Q4_K_M files of Llama-3.2-1B's layer shape
 * (2,048 wide, 32 query and 8 KV heads of 64, feed-forward 8,192) cut to {@value #LAYERS} layers and a
 * 16,384-token vocabulary, so each file (75–165 MB) is still several times the last-level cache and the
 * whole test takes about a minute on two cores.
 *
 * <p>Plan and bench each run as their own JVM, as a user runs them (the JIT compiles each process's
 * kernels for what that process runs), one pair per file, one after the other, so both see the same
 * machine load. Tolerance: the issue's ±15%. A shared machine's load moves both figures by more than that
 * between runs, so a file whose pair misses is measured again once (plan and bench both), and the check
 * runs only when asked: {@code -Dmemwall.timing=true} (several minutes on two loaded cores).
 */
@EnabledIfSystemProperty(named = "memwall.timing", matches = "true")
class ThisMachinePlanTest {
    private static final int LAYERS = 3;
    private static final int PROMPT = 128;
    private static final int GENERATE = 32;
    private static final double TOLERANCE = 0.15;

    @TempDir
    Path tmp;

    @Test
    void planOnThisMachinePredictsBenchWithinFifteenPercent() throws Exception {
        ModelShape base = ModelShape.named("llama-3.2-1b");
        int vocab = 16_384;
        int regular = vocab - base.specials().size();
        ModelShape small = new ModelShape("llama-3.2-1b-3l", "llama", LAYERS, base.embedding(), base.heads(), base.kvHeads(), base.headDim(),
                base.feedForward(), vocab, regular, true, base.contextLength(), base.ropeBase(), base.rmsEpsilon(), base.preTokenizer(),
                base.specials(), regular, regular + 9, base.ropeFactors(), 0, 0, 0);
        List<String> report = new ArrayList<>();
        List<String> misses = new ArrayList<>();
        for (String type : List.of("Q8_0", "Q4_0", "Q4_K_M")) {
            Path file = tmp.resolve(type + ".gguf");
            // 64 distinct rows per matrix (synth --fast): the same shapes, types and bytes per token, written in a second.
            SyntheticModel.write(small, SyntheticModel.Mix.parse(type), 1, 64, file, t -> { });
            List<String> lines = List.of();
            for (int attempt = 0; attempt < 2; attempt++) {
                lines = compare(type, file);
                int n = attempt + 1;
                lines.forEach(l -> report.add("attempt " + n + ": " + l));
                if (lines.stream().noneMatch(l -> l.endsWith("MISS"))) {
                    break;
                }
            }
            lines.stream().filter(l -> l.endsWith("MISS")).forEach(misses::add);
        }
        report.forEach(System.out::println);
        assertThat(misses).as("the last attempt of each file; every attempt: " + String.join("; ", report)).isEmpty();
    }

    /** Plan and bench of one file, one line per figure, ending in MISS beyond the tolerance. */
    private static List<String> compare(String type, Path file) throws IOException, InterruptedException {
        String bench = memwall("bench", "-m", file.toString(), "-p", "" + PROMPT, "-n", "" + GENERATE, "-r", "3", "--json");
        // Decode over positions 1..GENERATE attends to GENERATE/2 positions on average: the plan's mean context
        // input + output/2 with one input token. Prefill: the same prompt in one pass.
        String decodePlan = memwall("plan", "--model", file.toString(), "--hardware", "this-machine", "--input-tokens", "1",
                "--output-tokens", "" + GENERATE, "--json");
        String prefillPlan = memwall("plan", "--model", file.toString(), "--hardware", "this-machine", "--input-tokens", "" + PROMPT,
                "--output-tokens", "1", "--json");
        double[][] pairs = {{number(decodePlan, "decode_tokens_per_s"), number(bench, "decode_tokens_per_s")},
                {number(prefillPlan, "prefill_tokens_per_s"), number(bench, "prefill_tokens_per_s")}};
        String[] what = {"decode", "prefill"};
        List<String> lines = new ArrayList<>();
        String[] range = {String.format(Locale.ROOT, "%.2f..%.2f", number(bench, "decode_min"), number(bench, "decode_max")),
                String.format(Locale.ROOT, "%.2f..%.2f", number(bench, "prefill_min"), number(bench, "prefill_max"))};
        Path loadavg = Path.of("/proc/loadavg"); // Linux: the one-minute load average, reported with every pair
        String load = Files.isReadable(loadavg) ? Files.readString(loadavg).split(" ")[0] : "unknown";
        for (int i = 0; i < 2; i++) {
            double error = pairs[i][0] / pairs[i][1] - 1;
            lines.add(String.format(Locale.ROOT, "%s %s: plan %.2f, bench %.2f (repeats %s) tokens/s (%+.1f%%), load %s%s", type, what[i],
                    pairs[i][0], pairs[i][1], range[i], 100 * error, load, Math.abs(error) > TOLERANCE ? " MISS" : ""));
        }
        return lines;
    }

    /** Runs the CLI in a JVM of its own with the launcher's flags and returns its stdout. */
    private static String memwall(String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED", "-XX:+UseParallelGC", "-Xss4m",
                "-cp", System.getProperty("java.class.path"), Main.class.getName()));
        command.addAll(List.of(args));
        Process p = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.DISCARD).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor()).as(String.join(" ", args) + ": " + out).isZero();
        return out;
    }

    private static double number(String json, String field) {
        Matcher m = Pattern.compile("\"" + field + "\": ([0-9.eE+-]+)").matcher(json);
        assertThat(m.find()).as(field + " in " + json).isTrue();
        return Double.parseDouble(m.group(1));
    }
}
