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
}
