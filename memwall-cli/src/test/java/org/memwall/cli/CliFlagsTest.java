package org.memwall.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.memwall.TestModels;
import org.memwall.synth.SyntheticModel;

/** llama.cpp's flag names where they overlap, on the built-in model. */
class CliFlagsTest {
    @TempDir
    Path tmp;

    @Test
    void promptFromAFileGivesTheSameStoryAsTheSameText() throws IOException {
        Path prompt = tmp.resolve("prompt.txt");
        Files.writeString(prompt, "Once upon a time");
        Cli fromFile = Cli.run("run", "-f", prompt.toString(), "-n", "12", "--temp", "0", "-c", "64");
        assertThat(fromFile.exitCode()).as(fromFile.err()).isZero();
        assertThat(fromFile.out()).isEqualTo(Cli.run("run", "-p", "Once upon a time", "-n", "12", "--temp", "0").out()).startsWith(", there was");
        assertThat(Cli.run("run", "-n", "4").err().strip()).isEqualTo("memwall: no prompt: give one with -p TEXT or -f FILE");
        assertThat(Cli.run("run", "-p", "x", "-f", prompt.toString()).err().strip()).isEqualTo("memwall: give the prompt with -p TEXT or -f FILE, not both");
        assertThat(Cli.run("run", "-f", tmp.resolve("none.txt").toString()).err().strip()).isEqualTo("memwall: prompt file not found: " + tmp.resolve("none.txt"));
    }

    @Test
    void repackCacheIsSavedOnTheFirstRunAndMappedOnTheNext() throws IOException {
        Path model = Files.copy(TestModels.small("llama", SyntheticModel.Mix.Q4_0), tmp.resolve("m.gguf"));
        Path dir = tmp.resolve("cache");
        String[] run = {"run", "-m", model.toString(), "-p", "Once upon a time", "-n", "6", "--temp", "0", "--repack-cache=" + dir};
        Cli first = Cli.run(run);
        assertThat(first.exitCode()).as(first.err()).isZero();
        assertThat(first.err()).contains("memwall: repacked weights saved to " + dir.toAbsolutePath());
        Cli second = Cli.run(run);
        assertThat(second.exitCode()).as(second.err()).isZero();
        assertThat(second.err()).doesNotContain("repacked weights");
        assertThat(second.out()).isEqualTo(first.out());

        Cli beside = Cli.run("run", "-m", model.toString(), "-p", "Once upon a time", "-n", "6", "--temp", "0", "--repack-cache");
        assertThat(beside.err()).contains("memwall: repacked weights saved to " + model.toAbsolutePath() + ".memwall-repacked");
        assertThat(beside.out()).isEqualTo(first.out());
        assertThat(Files.exists(tmp.resolve("m.gguf.memwall-repacked"))).isTrue();
    }

    @Test
    void runStopsAtTheConfiguredContext() {
        Cli r = Cli.run("run", "-p", "Once upon a time", "-n", "100", "--temp", "0", "--ctx-size", "16");
        assertThat(r.exitCode()).as(r.err()).isZero();
        assertThat(r.err()).contains("prompt 5 tokens").contains("generated 11 tokens").contains("(context)");
    }

    @Test
    void chatDropsTheOldestTurnsWhenTheContextIsFullAndQuitsOnBye() {
        String input = "Lily went to the park with her mom and her dog\n".repeat(6) + "/bye\nnot read\n";
        Cli r = Cli.runWithInput(input, "chat", "-c", "64", "-n", "8", "--temp", "0", "-sys", "Stories.",
                "--chat-template", "{% for m in messages %}{{ m.content + ' ' }}{% endfor %}");
        assertThat(r.exitCode()).as(r.err()).isZero();
        assertThat(r.err()).contains("context 64").contains("the conversation outgrew the context; dropped the oldest 2 messages");
        assertThat(r.out().split("> ", -1)).as("six replies, then the prompt /bye answered").hasSize(8);
    }

    @Test
    void chatTemplateOptionsAreCheckedAndNamed() throws IOException {
        assertThat(Cli.runWithInput("/bye\n", "chat", "--chat-template", "nonsense").err().strip())
                .isEqualTo("memwall: --chat-template 'nonsense' is neither a known name (chatml, gemma, llama3) nor Jinja text; use --chat-template-file FILE for a file");
        Path file = tmp.resolve("t.jinja");
        Files.writeString(file, "{% for m in messages %}{{ m.content }}{% endfor %}");
        Cli fromFile = Cli.runWithInput("Once upon a time\n/exit\n", "chat", "--chat-template-file", file.toString(), "-n", "4", "--temp", "0");
        assertThat(fromFile.exitCode()).as(fromFile.err()).isZero();
        Cli named = Cli.runWithInput("Once upon a time\n/exit\n", "chat", "--chat-template", "chatml", "-n", "4", "--temp", "0");
        assertThat(named.exitCode()).as(named.err()).isZero();
        assertThat(Cli.runWithInput("", "chat", "--chat-template", "chatml", "--chat-template-file", file.toString()).err().strip())
                .isEqualTo("memwall: give --chat-template or --chat-template-file, not both");
    }

    @Test
    void infoReportsTheKvCacheOfTheConfiguredContextWhateverTheLocale() {
        Locale saved = Locale.getDefault();
        try {
            Locale.setDefault(Locale.GERMANY);
            Cli small = Cli.run("info", "-c", "100");
            Cli large = Cli.run("info", "-c", "200");
            Cli f32 = Cli.run("info", "-c", "100", "--kv-type", "f32");
            assertThat(small.out()).contains("(F16, 100 tokens: -c 100)").contains("1.12 MiB").doesNotContain("1,12");
            assertThat(large.out()).contains("(F16, 200 tokens: -c 200)");
            // 5 layers x (4 KV heads x 8 dims) x 2 (K and V) x 2 bytes (F16, the default) = 640 bytes per token
            assertThat(small.out()).contains("KV cache 62.5 KiB");
            assertThat(large.out()).contains("KV cache 125.0 KiB");
            assertThat(f32.out()).contains("KV cache 125.0 KiB (F32, 100 tokens: -c 100)");
            // Its 8-wide heads hold no whole Q8_0 block.
            assertThat(Cli.run("info", "--kv-type", "q8_0").err().strip())
                    .isEqualTo("memwall: a q8_0 KV cache needs head sizes that are multiples of 32; this model's are 8/8 (use --kv-type f16 or f32)");
        } finally {
            Locale.setDefault(saved);
        }
    }
}
