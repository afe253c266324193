package org.memwall;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.memwall.gguf.GgufFile;
import org.memwall.synth.ModelShape;
import org.memwall.synth.SyntheticModel;
import org.memwall.tokenizer.Tokenizer;

/**
 * Models every checkout has, so engine, server and CLI tests run on a fresh clone without
 * {@code ../shared}: the CLI's built-in stories260K (read where the repository keeps it, one copy of
 * the file) and small random-weight models of each family, synthesized once per test JVM.
 */
public final class TestModels {
    /** Where the CLI module keeps its built-in model, relative to the repository root. */
    static final String STORIES = "memwall-cli/src/main/resources/org/memwall/cli/builtin/stories260K.gguf";

    private static final Map<String, Path> SYNTHESIZED = new ConcurrentHashMap<>();
    private static Path scratch;

    private TestModels() {
    }

    /**
     * stories260K (llama, 5 layers, 64-dim, 512-token SentencePiece vocabulary, context 512, F32),
     * found by searching upward from the working directory (a module or the repository root).
     */
    public static Path stories() {
        Path dir = Path.of("").toAbsolutePath();
        for (int up = 0; up < 4 && dir != null; up++, dir = dir.getParent()) {
            Path candidate = dir.resolve(STORIES);
            if (Files.isRegularFile(candidate)) {
                return candidate;
            }
        }
        throw new IllegalStateException(STORIES + " is missing from this checkout (searched upward from " + Path.of("").toAbsolutePath() + ")");
    }

    /**
     * The first 48 tokens of a short story in stories260K's vocabulary, BOS (1) first: ids below 512,
     * so valid in every model here (the synthesized vocabularies have 1,024 regular tokens).
     */
    public static int[] story() {
        try (GgufFile file = GgufFile.open(stories())) {
            int[] ids = Tokenizer.from(file.metadata()).encode("Once upon a time, there was a little girl named Lily. She loved to play "
                    + "outside in the park. One day, she saw a big, red ball and a small dog.", true, false);
            if (ids.length < 48 || ids[0] != 1) {
                throw new IllegalStateException("the story is " + ids.length + " tokens starting with " + ids[0] + ", 48 from BOS needed");
            }
            return Arrays.copyOf(ids, 48);
        }
    }

    /**
     * A small shape of the family ({@code llama}, {@code qwen2}, {@code qwen3}, {@code exaone4},
     * {@code gpt-oss}): 3 layers, 256-dim, 4 heads / 2 KV heads of 64, FFN 512 (MoE: 4 experts of 256,
     * 2 used, sliding window 16), context 512, the family's tokenizer and special tokens over a
     * 1,024-token synthetic vocabulary. Same code paths as the real shapes, written in a second.
     */
    public static ModelShape smallShape(String architecture) {
        return smallShape(architecture, 512);
    }

    /** {@link #smallShape(String)} with a context of {@code context} tokens. */
    public static ModelShape smallShape(String architecture, int context) {
        ModelShape real = switch (architecture) {
            case "llama" -> ModelShape.named("llama-3.2-1b");
            case "qwen2" -> ModelShape.named("qwen2.5-0.5b");
            case "qwen3" -> ModelShape.named("qwen3-0.6b");
            case "exaone4" -> ModelShape.named("exaone-4.0-1.2b");
            case "gpt-oss" -> ModelShape.named("gpt-oss-20b");
            default -> throw new IllegalArgumentException("no small shape for architecture '" + architecture + "'");
        };
        boolean moe = real.moe();
        return new ModelShape("small-" + architecture, architecture, 3, 256, 4, 2, 64, moe ? 256 : 512, 1024 + real.specials().size() + 5,
                1024, real.tiedEmbeddings(), context, real.ropeBase(), real.rmsEpsilon(), real.preTokenizer(), real.specials(),
                1024, 1025, real.ropeFactors(), moe ? 4 : 0, moe ? 2 : 0, moe ? 16 : 0);
    }

    /** {@link #smallShape} written with the type mix (seed 1), once per JVM; the file is removed when it exits. */
    public static Path small(String architecture, SyntheticModel.Mix mix) {
        return small(architecture, mix, 512);
    }

    /** {@link #small(String, SyntheticModel.Mix)} with a context of {@code context} tokens (gpt-oss: long enough for its windows' rings to wrap). */
    public static Path small(String architecture, SyntheticModel.Mix mix, int context) {
        return SYNTHESIZED.computeIfAbsent(architecture + "-" + mix + "-" + context, key -> {
            try {
                Path file = scratch().resolve(key + ".gguf");
                SyntheticModel.write(smallShape(architecture, context), mix, 1, file, t -> { });
                file.toFile().deleteOnExit();
                return file;
            } catch (IOException e) {
                throw new UncheckedIOException("cannot synthesize " + key, e);
            }
        });
    }

    private static synchronized Path scratch() throws IOException {
        if (scratch == null) {
            scratch = Files.createTempDirectory("memwall-test-models");
            scratch.toFile().deleteOnExit();
        }
        return scratch;
    }
}
