package org.memwall.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.memwall.Conformance;

class ModelCommandsTest {
    @TempDir
    Path tmp;

    @Test
    void infoNamesFamilyTypesAndMemory() {
        Path model = Conformance.file("models/llama-Q4_K_M.gguf");
        Cli r = Cli.run("info", "-m", model.toString());
        assertThat(r.exitCode()).as(r.err()).isZero();
        assertThat(r.out()).contains("architecture:   llama: Llama 2/3").contains("Q4_K").contains("Q6_K")
                .contains("context length: 512").contains("KV cache");
    }

    @Test
    void logitsBatchAndSequentialMatchLlamaCpp() throws IOException {
        Path model = Conformance.file("models/llama-f32.gguf");
        Path prompt = Conformance.file("prompt48.txt");
        float[] ref = floats(Conformance.file("expected/llama-f32.logits.f32"));
        for (String mode : new String[] {"batch", "sequential"}) {
            Path out = tmp.resolve(mode + ".f32");
            Cli r = mode.equals("batch")
                    ? Cli.run("logits", "-m", model.toString(), "--tokens", prompt.toString(), "--out", out.toString())
                    : Cli.run("logits", "-m", model.toString(), "--tokens", prompt.toString(), "--out", out.toString(), "--sequential");
            assertThat(r.exitCode()).as(r.err()).isZero();
            float[] ours = floats(out);
            assertThat(ours).hasSameSizeAs(ref);
            double num = 0, den = 0;
            for (int i = 0; i < ref.length; i++) {
                num += (ours[i] - ref[i]) * (double) (ours[i] - ref[i]);
                den += ref[i] * (double) ref[i];
            }
            assertThat(Math.sqrt(num / den)).as(mode).isLessThan(1e-4);
        }
    }

    @Test
    void missingModelFileIsOneLineAndExitCode1() {
        Cli r = Cli.run("info", "-m", tmp.resolve("nope.gguf").toString());
        assertThat(r.exitCode()).isEqualTo(1);
        assertThat(r.err().strip()).startsWith("memwall: model file not found").doesNotContain("\n").doesNotContain("Exception");
    }

    @Test
    void notAGgufFileIsOneLine() throws IOException {
        Path bad = tmp.resolve("bad.gguf");
        Files.writeString(bad, "this is not a model at all, just text long enough");
        Cli r = Cli.run("info", "-m", bad.toString());
        assertThat(r.exitCode()).isEqualTo(1);
        assertThat(r.err().strip()).startsWith("memwall: bad GGUF file").contains("not a GGUF file").doesNotContain("\n");
    }

    @Test
    void badTokenFileNamesTheLine() throws IOException {
        Path model = Conformance.file("models/llama-f32.gguf");
        Path tokens = tmp.resolve("t.txt");
        Files.writeString(tokens, "1\n2\nthree\n");
        Cli r = Cli.run("logits", "-m", model.toString(), "--tokens", tokens.toString(), "--out", tmp.resolve("o").toString());
        assertThat(r.exitCode()).isEqualTo(1);
        assertThat(r.err()).contains("line 3").contains("'three' is not a token id");
    }

    @Test
    void unknownOptionIsUsageErrorExit2() {
        Cli r = Cli.run("info", "--bogus");
        assertThat(r.exitCode()).isEqualTo(2);
    }

    static float[] floats(Path p) throws IOException {
        byte[] b = Files.readAllBytes(p);
        float[] f = new float[b.length / 4];
        ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(f);
        return f;
    }
}
