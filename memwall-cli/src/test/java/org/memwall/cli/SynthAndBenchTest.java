package org.memwall.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.memwall.TestModels;
import org.memwall.quant.Kernels;
import org.memwall.synth.SyntheticModel;

class SynthAndBenchTest {
    @TempDir
    Path tmp;

    @Test
    void synthNamesWhatItDoesNotKnowInOneLine() {
        Cli shape = Cli.run("synth", "--shape", "llama-70b", "--type", "Q8_0", "-o", tmp.resolve("a.gguf").toString());
        assertThat(shape.exitCode()).isEqualTo(1);
        assertThat(shape.err().strip()).startsWith("memwall: unknown shape 'llama-70b'").contains("llama-3.2-1b").doesNotContain("\n");

        Cli type = Cli.run("synth", "--shape", "qwen3-0.6b", "--type", "IQ2_XS", "-o", tmp.resolve("b.gguf").toString());
        assertThat(type.exitCode()).isEqualTo(1);
        assertThat(type.err().strip()).startsWith("memwall: unknown type 'IQ2_XS'").doesNotContain("\n");

        Cli dir = Cli.run("synth", "--shape", "qwen3-0.6b", "-o", tmp.resolve("no/such/dir/c.gguf").toString());
        assertThat(dir.exitCode()).isEqualTo(1);
        assertThat(dir.err().strip()).contains("does not exist").doesNotContain("\n");
    }

    @Test
    void benchJsonCarriesEveryDocumentedField() {
        Path model = TestModels.small("llama", SyntheticModel.Mix.Q4_0);
        Cli r = Cli.run("bench", "-m", model.toString(), "-p", "16", "-n", "8", "-r", "1", "-t", "2", "--json");
        assertThat(r.exitCode()).as(r.err()).isZero();
        String json = r.out().strip();
        assertThat(json).startsWith("{").endsWith("}").doesNotContain("\n");
        for (String field : new String[] {"model", "threads", "prompt_tokens", "generated_tokens", "prefill_tokens_per_s", "prefill_min",
                "prefill_max", "decode_tokens_per_s", "decode_min", "decode_max", "weight_bytes_per_token", "achieved_gbps",
                "memory_read_gbps", "bandwidth_percent", "peak_rss_bytes", "vector_bits"}) {
            assertThat(json).contains("\"" + field + "\": ");
        }
        assertThat(json).contains("\"threads\": 2").contains("\"prompt_tokens\": 16").contains("\"generated_tokens\": 8")
                .contains("\"vector_bits\": " + Kernels.SPECIES.vectorBitSize());
    }

    @Test
    void benchAtDepthsTimesThePositionsAfterEachAndSaysWhich() {
        Path model = TestModels.small("llama", SyntheticModel.Mix.Q4_0);
        Cli text = Cli.run("bench", "-m", model.toString(), "-p", "8", "-n", "4", "-r", "1", "-t", "2", "--depth", "64,0", "--kv-type", "q8_0");
        assertThat(text.exitCode()).as(text.err()).isZero();
        String out = text.out();
        assertThat(out).contains("KV cache q8_0").contains("prefill (pp8):").contains("decode (tg4):");
        assertThat(out.indexOf("decode (tg4):")).as("depths in increasing order").isLessThan(out.indexOf("prefill (pp8 @ d64):"));
        assertThat(out).contains("decode (tg4 @ d64):");

        Cli json = Cli.run("bench", "-m", model.toString(), "-p", "8", "-n", "4", "-r", "1", "-t", "2", "-d", "0,64", "--kv-type", "f32", "--json");
        assertThat(json.exitCode()).as(json.err()).isZero();
        String[] lines = json.out().strip().split("\n");
        assertThat(lines).hasSize(2);
        assertThat(lines[0]).contains("\"depth\": 0,").contains("\"kv_type\": \"f32\"");
        // A step at depth 64 reads the keys and values of the 64 + 4/2 positions before the middle of the run:
        // 3 layers x 256 values (keys and values of 2 heads of 64) x 4 bytes each.
        assertThat(lines[1]).contains("\"depth\": 64,").contains("\"kv_bytes_per_token\": " + 66 * 3 * 256 * 4 + ",");
    }

    @Test
    void benchNamesABadDepthOrKvTypeOrADepthPastTheContextInOneLine() {
        Path model = TestModels.small("llama", SyntheticModel.Mix.Q4_0);
        assertThat(Cli.run("bench", "-m", model.toString(), "--depth", "0,x").err().strip())
                .isEqualTo("memwall: --depth '0,x' is not a list of token counts such as 0 or 0,4096");
        assertThat(Cli.run("bench", "-m", model.toString(), "--kv-type", "q4_0").err().strip())
                .isEqualTo("memwall: --kv-type 'q4_0' is not one of f16, f32, q8_0");
        Cli past = Cli.run("bench", "-m", model.toString(), "-p", "8", "-n", "4", "-t", "2", "--depth", "510");
        assertThat(past.exitCode()).isEqualTo(1);
        assertThat(past.err().strip()).isEqualTo("memwall: --depth 510 with -p 8 / -n 4 needs 518 positions; the model's context is 512");
    }
}
