package org.memwall.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PlanCommandTest {
    @TempDir
    Path dir;

    @Test
    void plotWritesTheSvgOrPngItsNameAsksFor() throws Exception {
        Path svg = dir.resolve("plan.svg");
        Cli r = Cli.run("plan", "--model", "llama-3.1-8b", "--type", "fp8", "--hardware", "h200", "--count", "1", "--ttft", "0.45", "--tpot", "0.04",
                "--plot", svg.toString());
        assertThat(r.exitCode()).as(r.err()).isZero();
        assertThat(r.out()).contains("plot:               " + svg);
        var doc = javax.xml.parsers.DocumentBuilderFactory.newInstance().newDocumentBuilder().parse(svg.toFile());
        assertThat(doc.getDocumentElement().getTagName()).isEqualTo("svg");
        assertThat(Files.readString(svg)).contains("id=\"roofline\"", "id=\"decode-1\"", "id=\"tpot-target\"", "id=\"throughput-curve\"");
        Path png = dir.resolve("plan.png");
        Cli json = Cli.run("plan", "--model", "llama-3.1-8b", "--hardware", "h200", "--plot", png.toString(), "--json");
        assertThat(json.exitCode()).as(json.err()).isZero();
        assertThat(json.out().strip()).startsWith("{").endsWith("}");
        assertThat(ImageIO.read(png.toFile()).getWidth()).isEqualTo(1500);
        Cli pdf = Cli.run("plan", "--model", "llama-3.1-8b", "--hardware", "h200", "--plot", dir.resolve("plan.pdf").toString());
        assertThat(pdf.exitCode()).isEqualTo(1);
        assertThat(pdf.err().strip()).startsWith("memwall: --plot ").endsWith("the file must end in .svg or .png").doesNotContain("\n");
        Cli sweep = Cli.run("plan", "--model", "llama-3.1-8b", "--hardware", "h200", "--sweep", "batch", "--plot", svg.toString());
        assertThat(sweep.err().strip()).isEqualTo("memwall: --plot draws one plan; not with a model mix, --power-budget or --sweep");
    }

    @Test
    void jsonCarriesEveryDocumentedField() {
        Cli r = Cli.run("plan", "--model", "gpt-oss-120b", "--type", "mxfp4", "--hardware", "h200", "--count", "8", "--ttft", "0.45",
                "--tpot", "0.04", "--price", "3.5", "--pue", "1.3", "--json");
        assertThat(r.exitCode()).as(r.err()).isZero();
        String json = r.out().strip();
        assertThat(json).startsWith("{").endsWith("}").doesNotContain("\n");
        for (String field : new String[] {"fits", "memory_bytes_per_device", "decode_tokens_per_s", "prefill_tokens_per_s", "max_concurrency",
                "output_tokens_per_s", "ttft_s", "tpot_s", "devices", "power_w", "joules_per_token", "usd_per_million_tokens"}) {
            assertThat(json).contains("\"" + field + "\": ");
        }
        assertThat(json).contains("\"devices\": 8", "\"fits\": true", "\"power_w\": 7280.00"); // 8 · 700 W · PUE 1.3
    }

    @Test
    void fleetModeSplitsAPowerBudgetBetweenTheModels() {
        Cli r = Cli.run("plan", "--model", "exaone-4.0-32b,qwen2.5-72b,gpt-oss-120b", "--type", "fp8", "--hardware", "h200",
                "--power-budget", "3e6", "--pue", "1.25", "--ttft", "0.45", "--tpot", "0.04", "--json");
        assertThat(r.exitCode()).as(r.err()).isZero();
        // 3 MW / (700 W · 1.25) = 3,428 devices, 1,142 per model.
        assertThat(r.out()).contains("\"devices\": 3428", "\"model\": \"exaone-4.0-32b\"", "\"model\": \"gpt-oss-120b\"");
    }

    @Test
    void badInputIsOneLine() {
        Cli hw = Cli.run("plan", "--model", "llama-3.1-8b", "--hardware", "h300");
        assertThat(hw.exitCode()).isEqualTo(1);
        assertThat(hw.err().strip()).startsWith("memwall: unknown hardware 'h300'").doesNotContain("\n");
        Cli model = Cli.run("plan", "--model", "llama-9b", "--hardware", "h200");
        assertThat(model.err().strip()).startsWith("memwall: unknown shape 'llama-9b'").doesNotContain("\n");
        Cli tp = Cli.run("plan", "--model", "llama-3.1-8b", "--hardware", "h200", "--count", "3", "--tp", "2");
        assertThat(tp.err().strip()).contains("not a multiple of --tp 2").doesNotContain("\n");
    }

    @Test
    void thisMachineNamesAWeightTypeItCannotMeasure() {
        Cli r = Cli.run("plan", "--model", "llama-3.2-1b", "--type", "fp8", "--hardware", "this-machine");
        assertThat(r.exitCode()).isEqualTo(1);
        assertThat(r.err().strip()).startsWith("memwall: this-machine has no measured decode rate for this weight type").doesNotContain("\n");
    }

    @Test
    void sweepPrintsOneRowPerValueAndJsonCarriesEach() {
        Cli table = Cli.run("plan", "--model", "llama-3.1-8b", "--type", "fp8", "--hardware", "h200", "--sweep", "hbm=hbm3,hbm4");
        assertThat(table.exitCode()).as(table.err()).isZero();
        assertThat(table.out()).contains("what-if hbm").containsPattern("(?m)^hbm3 +\\d+GB +4\\.91 ").containsPattern("(?m)^hbm4 +\\d+GB +12\\.00 ");
        Cli json = Cli.run("plan", "--model", "llama-3.1-8b", "--type", "fp8", "--hardware", "h200", "--sweep", "batch=1,8", "--json");
        assertThat(json.exitCode()).as(json.err()).isZero();
        assertThat(json.out().strip()).startsWith("{\"sweep\": \"batch\", \"rows\": [{\"value\": \"1\", ").contains("{\"value\": \"8\", ")
                .contains("\"concurrency\": 8,").doesNotContain("\n");
        Cli bad = Cli.run("plan", "--model", "llama-3.1-8b", "--hardware", "h200", "--sweep", "clock");
        assertThat(bad.err().strip()).startsWith("memwall: unknown sweep 'clock'").doesNotContain("\n");
    }
}
