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
import org.memwall.TestModels;
import org.memwall.synth.SyntheticModel;

class ModelCommandsTest {
    @TempDir
    Path tmp;

    @Test
    void infoNamesFamilyTypesAndMemory() {
        Path model = TestModels.small("llama", SyntheticModel.Mix.Q4_K_M);
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
        // llama.cpp made the references with an F32 KV cache; float32 math within 1e-4 needs one too.
        for (String mode : new String[] {"batch", "sequential"}) {
            Path out = tmp.resolve(mode + ".f32");
            Cli r = mode.equals("batch")
                    ? Cli.run("logits", "-m", model.toString(), "--tokens", prompt.toString(), "--out", out.toString(), "--kv-type", "f32")
                    : Cli.run("logits", "-m", model.toString(), "--tokens", prompt.toString(), "--out", out.toString(), "--sequential", "--kv-type", "f32");
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
    void logitsInOneBatchEqualLogitsOneTokenAtATime() throws IOException {
        Path tokens = tmp.resolve("story.txt");
        Files.writeString(tokens, java.util.Arrays.stream(TestModels.story()).mapToObj(Integer::toString).collect(java.util.stream.Collectors.joining("\n")));
        Path batch = tmp.resolve("batch.f32");
        Path sequential = tmp.resolve("sequential.f32");
        Cli a = Cli.run("logits", "-m", BuiltinModel.path().toString(), "--tokens", tokens.toString(), "--out", batch.toString());
        Cli b = Cli.run("logits", "-m", BuiltinModel.path().toString(), "--tokens", tokens.toString(), "--out", sequential.toString(), "--sequential");
        assertThat(a.exitCode()).as(a.err()).isZero();
        assertThat(b.exitCode()).as(b.err()).isZero();
        float[] x = floats(batch);
        float[] y = floats(sequential);
        assertThat(x).hasSize(48 * 512).hasSameSizeAs(y);
        double num = 0, den = 0;
        for (int i = 0; i < x.length; i++) {
            num += (x[i] - y[i]) * (double) (x[i] - y[i]);
            den += y[i] * (double) y[i];
        }
        assertThat(den).isPositive();
        assertThat(Math.sqrt(num / den)).isLessThan(1e-5);
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
        Path model = BuiltinModel.path();
        Path tokens = tmp.resolve("t.txt");
        Files.writeString(tokens, "1\n2\nthree\n");
        Cli r = Cli.run("logits", "-m", model.toString(), "--tokens", tokens.toString(), "--out", tmp.resolve("o").toString());
        assertThat(r.exitCode()).isEqualTo(1);
        assertThat(r.err()).contains("line 3").contains("'three' is not a token id");
    }

    @Test
    void unsupportedArchitectureFailsWithOneLineListingTheSupportedOnes() throws IOException {
        byte[] bytes = Files.readAllBytes(BuiltinModel.path());
        Path tokens = tmp.resolve("tokens.txt");
        Files.writeString(tokens, "1\n403\n");
        // Rename the architecture value "llama" (length-prefixed, right after its key) to "mamba".
        byte[] key = "general.architecture".getBytes(java.nio.charset.StandardCharsets.UTF_8);
        int at = indexOf(bytes, key) + key.length + 4 + 8;
        assertThat(new String(bytes, at, 5, java.nio.charset.StandardCharsets.UTF_8)).isEqualTo("llama");
        System.arraycopy("mamba".getBytes(java.nio.charset.StandardCharsets.UTF_8), 0, bytes, at, 5);
        Path file = tmp.resolve("mamba.gguf");
        Files.write(file, bytes);
        for (String command : new String[] {"info", "logits"}) {
            Cli r = command.equals("info")
                    ? Cli.run("info", "-m", file.toString())
                    : Cli.run("logits", "-m", file.toString(), "--tokens", tokens.toString(), "--out", tmp.resolve("o").toString());
            assertThat(r.exitCode()).isEqualTo(1);
            assertThat(r.err().strip()).isEqualTo("memwall: unsupported model architecture 'mamba' (memwall supports: "
                    + "llama, qwen2, qwen3, exaone, exaone4, granite, gpt-oss)");
        }
    }

    @Test
    void infoNamesTheKnownModelsOfEachFamily() {
        assertThat(Cli.run("info", "-m", TestModels.small("qwen2", SyntheticModel.Mix.Q8_0).toString()).out())
                .contains("architecture:   qwen2: Qwen2/2.5, SK Telecom A.X 4.0");
        assertThat(Cli.run("info", "-m", TestModels.small("exaone4", SyntheticModel.Mix.F32).toString()).out())
                .contains("architecture:   exaone4: LG EXAONE 4.0");
        assertThat(Cli.run("info", "-m", TestModels.small("gpt-oss", SyntheticModel.Mix.Q8_0).toString()).out())
                .contains("gpt-oss: OpenAI gpt-oss-20b/120b").contains("experts:        4, 2 used per token");
    }

    /** memwall does not write MXFP4, so the experts' type is checked on llama-quantize's file. */
    @Test
    void infoNamesLlamaQuantizesMxfp4Experts() {
        assertThat(Cli.run("info", "-m", Conformance.file("models/gpt-oss-MXFP4_MOE.gguf").toString()).out())
                .contains("gpt-oss: OpenAI gpt-oss-20b/120b").contains("MXFP4").contains("experts:        4, 2 used per token");
    }

    static int indexOf(byte[] haystack, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= haystack.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (haystack[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
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
