package org.memwall.gguf;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.fail;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.memwall.MemwallException;
import org.memwall.TestModels;
import org.memwall.model.Model;
import org.memwall.synth.SyntheticModel;
import org.memwall.tokenizer.Tokenizer;

/**
 * Truncated, bit-flipped and count-inflated files: each is loaded or rejected with a one-line
 * MemwallException naming the file, within a second, never with another exception or an Error.
 */
class GgufHostileInputTest {
    @TempDir
    Path tmp;

    private int cases;

    /** Opens the file as the CLI would (GGUF, model, tokenizer) and checks how it fails. */
    private void expectLoadedOrRejected(byte[] bytes, String what) throws IOException {
        Path file = tmp.resolve("m.gguf");
        Files.write(file, bytes);
        cases++;
        long t0 = System.nanoTime();
        try (Model model = Model.open(file, 1)) {
            Tokenizer.from(model.file().metadata());
        } catch (MemwallException e) {
            assertThat(e.getMessage()).as(what).doesNotContain("\n").isNotBlank();
            if (e instanceof GgufFormatException) {
                assertThat(e.getMessage()).as(what).contains(file.toString());
            }
        } catch (Throwable t) {
            fail(what + ": escaped as " + t, t);
        }
        // A bound for hangs and runaway loops (a hostile count), not a speed goal: loads take milliseconds,
        // but a loaded CI machine can stall a JVM for a second.
        assertThat((System.nanoTime() - t0) / 1e9).as(what + " seconds").isLessThan(10.0);
    }

    @Test
    void truncationsAtManyOffsetsAreRejectedCleanly() throws IOException {
        for (Path model : new Path[] {TestModels.small("llama", SyntheticModel.Mix.Q4_K_M), TestModels.small("gpt-oss", SyntheticModel.Mix.Q8_0),
                TestModels.stories()}) {
            String name = model.getFileName().toString();
            byte[] full = Files.readAllBytes(model);
            int headerEnd;
            try (GgufFile g = GgufFile.open(model)) {
                headerEnd = (int) g.dataOffset();
            }
            SplittableRandom r = new SplittableRandom(name.hashCode());
            for (int i = 0; i < 120; i++) {
                // Two thirds inside the header and directory, where every byte matters.
                int cut = i % 3 == 2 ? headerEnd + r.nextInt(full.length - headerEnd) : r.nextInt(headerEnd);
                expectLoadedOrRejected(java.util.Arrays.copyOf(full, cut), name + " truncated at " + cut);
            }
        }
        assertThat(cases).isGreaterThanOrEqualTo(360);
    }

    @Test
    void randomByteAndBitFlipsAreLoadedOrRejectedCleanly() throws IOException {
        for (Path model : new Path[] {TestModels.small("llama", SyntheticModel.Mix.Q8_0), TestModels.small("qwen3", SyntheticModel.Mix.Q4_K_M),
                TestModels.small("gpt-oss", SyntheticModel.Mix.Q4_0)}) {
            String name = model.getFileName().toString();
            byte[] full = Files.readAllBytes(model);
            int headerEnd;
            try (GgufFile g = GgufFile.open(model)) {
                headerEnd = (int) g.dataOffset();
            }
            SplittableRandom r = new SplittableRandom(name.hashCode() * 31L);
            for (int i = 0; i < 120; i++) {
                byte[] b = full.clone();
                int flips = 1 + r.nextInt(4);
                StringBuilder what = new StringBuilder(name).append(" flipped");
                for (int f = 0; f < flips; f++) {
                    int at = r.nextInt(10) < 8 ? r.nextInt(headerEnd) : r.nextInt(b.length);
                    if (r.nextBoolean()) {
                        b[at] ^= (byte) (1 << r.nextInt(8));
                    } else {
                        b[at] = (byte) r.nextInt(256);
                    }
                    what.append(' ').append(at);
                }
                expectLoadedOrRejected(b, what.toString());
            }
        }
        assertThat(cases).isGreaterThanOrEqualTo(360);
    }

    @Test
    void inflatedCountsAndLengthsAreRejectedAtOnce() throws IOException {
        byte[] full = Files.readAllBytes(TestModels.stories());
        long[] huge = {Long.MAX_VALUE, 1L << 32, -1L, full.length + 1L, 1L << 62};
        for (long v : huge) {
            for (int offset : new int[] {8, 16, 24}) { // tensor count, kv count, first key's length
                byte[] b = full.clone();
                ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).putLong(offset, v);
                expectLoadedOrRejected(b, "u64 at " + offset + " = " + v);
            }
        }
    }

    @Test
    void tinyFileDeclaringTwoToTheSixtyThreeTensorsIsRejectedAtOnce() throws IOException {
        ByteBuffer b = ByteBuffer.allocate(64).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(GgufFile.MAGIC).putInt(3).putLong(Long.MAX_VALUE).putLong(0);
        Path file = tmp.resolve("tiny.gguf");
        Files.write(file, b.array());
        assertThatThrownBy(() -> GgufFile.open(file)).isInstanceOf(GgufFormatException.class)
                .hasMessageContaining("tensor count").hasMessageContaining("cannot fit");
    }

    @Test
    void aHugeBlockCountIsRejectedBeforeAnythingIsSizedByIt() throws IOException {
        // Found by the GGUF fuzzer: 2^30 + 1 blocks in a 15 KB file made the load allocate 5 GB (per-layer
        // arrays) and take seconds before failing on block 0's first missing tensor.
        byte[] key = "llama.block_count".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        byte[] full = Files.readAllBytes(TestModels.stories());
        int at = indexOf(full, key) + key.length;
        assertThat(ByteBuffer.wrap(full).order(ByteOrder.LITTLE_ENDIAN).getInt(at)).as("a u32 value").isEqualTo(4);
        Path file = tmp.resolve("blocks.gguf");
        Files.write(file, patch(full, at + 4, 4, (1 << 30) + 1));
        var threads = (com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean();
        long before = threads.getCurrentThreadAllocatedBytes();
        assertThatThrownBy(() -> Model.open(file, 1).close()).isInstanceOf(MemwallException.class)
                .hasMessage("metadata key 'llama.block_count' is 1073741825, more than any model has (at most 65536)");
        assertThat(threads.getCurrentThreadAllocatedBytes() - before).as("bytes allocated").isLessThan(64L << 20);
    }

    @Test
    void eachStructuralProblemIsNamed() throws IOException {
        assertRejected(writer().addTensor("w", GgmlType.F32, new long[] {4, 4}, new byte[64]), b -> b.putInt(4, 7), "unsupported GGUF version 7");
        assertRejected(writer(), b -> b.putInt(0, 0x12345678), "not a GGUF file");
        for (long bad : new long[] {3, 0, 1L << 40}) {
            // Written with a valid alignment, then the value patched: the writer refuses bad ones.
            Path file = tmp.resolve("align.gguf");
            writer().putU64("general.alignment", 64).write(file);
            byte[] bytes = Files.readAllBytes(file);
            int at = indexOf(bytes, "general.alignment".getBytes()) + "general.alignment".length() + 4;
            expectMessage(patch(bytes, at, 8, bad), "general.alignment " + bad + " is not a power of two");
        }
        assertRejected(writer().addTensor("blk.3.attn_q.weight", GgmlType.F32, new long[] {8, 8}, new byte[256]),
                b -> b.limit(b.limit() - 10), "tensor 'blk.3.attn_q.weight' data ends at byte");
    }

    @Test
    void directoryProblemsAreNamed() throws IOException {
        Path file = tmp.resolve("d.gguf");
        writer().addTensor("A", GgmlType.F32, new long[] {8}, new byte[32]).addTensor("B", GgmlType.F32, new long[] {8}, new byte[32]).write(file);
        byte[] bytes = Files.readAllBytes(file);
        int aDims = indexOf(bytes, new byte[] {1, 0, 0, 0, 0, 0, 0, 0, 'A'}) + 9; // n_dims of tensor "A"
        expectMessage(patch(bytes, aDims, 4, 5), "has 5 dimensions");
        expectMessage(patch(bytes, aDims + 4, 8, 0), "dimension 0 = 0");
        expectMessage(patch(bytes, aDims + 12, 4, 99), "unknown ggml type 99");
        expectMessage(patch(bytes, aDims + 16, 8, 3), "is not a multiple of the alignment");
        int bName = indexOf(bytes, new byte[] {1, 0, 0, 0, 0, 0, 0, 0, 'B'}) + 8;
        expectMessage(patch(bytes, bName + 1 + 4 + 8 + 4, 8, 0), "overlap"); // tensor "B"'s offset := "A"'s
        byte[] dup = bytes.clone();
        dup[bName] = 'A';
        expectMessage(dup, "tensor 'A' appears twice");
        byte[] broken = patch(bytes, aDims, 4, 5);
        broken[aDims - 1] = '\n'; // the name "A" becomes a newline: the message stays one line
        expectMessage(broken, "tensor '\\x0a' has 5 dimensions");
    }

    private static GgufWriter writer() {
        return new GgufWriter().putString("general.architecture", "llama");
    }

    private void assertRejected(GgufWriter w, java.util.function.Consumer<ByteBuffer> patch, String message) throws IOException {
        Path file = tmp.resolve("s.gguf");
        w.write(file);
        ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(file)).order(ByteOrder.LITTLE_ENDIAN);
        patch.accept(b);
        byte[] out = new byte[b.limit()];
        b.position(0).get(out);
        expectMessage(out, message);
    }

    private void expectMessage(byte[] bytes, String message) throws IOException {
        Path file = tmp.resolve("x.gguf");
        Files.write(file, bytes);
        assertThatThrownBy(() -> GgufFile.open(file).close()).isInstanceOf(GgufFormatException.class)
                .hasMessageStartingWith("bad GGUF file " + file + ": ").hasMessageContaining(message);
    }

    private static byte[] patch(byte[] bytes, int at, int width, long value) {
        byte[] b = bytes.clone();
        ByteBuffer buf = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
        if (width == 4) {
            buf.putInt(at, (int) value);
        } else {
            buf.putLong(at, value);
        }
        return b;
    }

    private static int indexOf(byte[] haystack, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= haystack.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (haystack[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return i;
        }
        throw new IllegalStateException("not found");
    }
}
