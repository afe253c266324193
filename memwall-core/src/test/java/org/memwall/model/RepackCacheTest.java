package org.memwall.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.memwall.TestModels;
import org.memwall.gguf.GgmlType;
import org.memwall.quant.Interleaved;
import org.memwall.synth.SyntheticModel;

/**
 * The repack cache on a small Q4_K_M model (Q4_K and Q6_K copies, an F32 tensor kept as stored): saved on the first
 * load, mapped on the next with the same logits bit for bit, and made again, never used, when it is not this model's
 * or not whole.
 */
class RepackCacheTest {
    @TempDir
    Path dir;

    private final List<String> notes = new ArrayList<>();

    @Test
    void theSecondLoadMapsTheSavedCopiesAndComputesTheSameLogits() throws IOException {
        Path model = copyOfSmallModel();
        float[] plain = logits(model, null);
        RepackCache cache = RepackCache.in(dir.resolve("cache"), model, notes::add);
        assertThat(logits(model, cache)).isEqualTo(plain);
        assertThat(notes).containsExactly("memwall: repacked weights saved to " + cache.file());
        assertThat(Files.size(cache.file())).as("every copy, page-aligned").isGreaterThan(Files.size(model) / 2);

        notes.clear();
        assertThat(logits(model, cache)).as("from the mapped copies").isEqualTo(plain);
        assertThat(notes).as("mapped, not written again").isEmpty();
        assertThat(RepackCache.beside(model, notes::add).file()).isEqualTo(model.toAbsolutePath().resolveSibling(model.getFileName() + ".memwall-repacked"));
    }

    @Test
    void aCacheOfAnEarlierModelFileOrADamagedOneIsMadeAgain() throws IOException {
        Path model = copyOfSmallModel();
        float[] plain = logits(model, null);
        RepackCache cache = RepackCache.in(dir, model, notes::add);
        logits(model, cache);

        Files.setLastModifiedTime(model, FileTime.fromMillis(Files.getLastModifiedTime(model).toMillis() + 60_000));
        notes.clear();
        assertThat(logits(model, cache)).isEqualTo(plain);
        assertThat(notes).containsExactly("memwall: repacked weights saved again (the old file was made from another version of the model file) to " + cache.file());

        byte[] whole = Files.readAllBytes(cache.file());
        Files.write(cache.file(), java.util.Arrays.copyOf(whole, whole.length / 2));
        notes.clear();
        assertThat(logits(model, cache)).isEqualTo(plain);
        assertThat(notes).containsExactly("memwall: repacked weights saved again (the old file was truncated or damaged) to " + cache.file());
        assertThat(Files.size(cache.file())).isEqualTo(whole.length);

        Files.writeString(cache.file(), "not a cache");
        notes.clear();
        assertThat(logits(model, cache)).isEqualTo(plain);
        assertThat(notes).containsExactly("memwall: repacked weights saved again (the old file was not a memwall repack file) to " + cache.file());
    }

    @Test
    void aCacheThatCannotBeWrittenIsANoticeAndTheModelStillLoads() throws IOException {
        Path model = copyOfSmallModel();
        Path notADirectory = Files.writeString(dir.resolve("file"), "x");
        RepackCache cache = RepackCache.in(notADirectory, model, notes::add);
        assertThat(logits(model, cache)).isEqualTo(logits(model, null));
        assertThat(notes).singleElement().asString().startsWith("memwall: repacked weights not saved to " + cache.file());
    }

    @Test
    void copiedBytesOfAnotherSizeAreRefused() {
        long bytes = Interleaved.allocate(GgmlType.Q4_0, 32, 256).byteSize();
        assertThatThrownBy(() -> Interleaved.over(GgmlType.Q4_0, 32, 256, java.lang.foreign.Arena.ofAuto().allocate(bytes + 64, 64)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("takes " + bytes + " bytes");
        assertThat(Interleaved.over(GgmlType.F32, 32, 256, java.lang.foreign.Arena.ofAuto().allocate(64, 64))).as("kept as stored").isNull();
        assertThat(Interleaved.layout()).isEqualTo(Interleaved.layout());
    }

    private Path copyOfSmallModel() throws IOException {
        return Files.copy(TestModels.small("llama", SyntheticModel.Mix.Q4_K_M), dir.resolve("small.gguf"));
    }

    /** Logits of every position of a short prompt, the model opened with {@code cache}. */
    private static float[] logits(Path model, RepackCache cache) {
        try (Model m = Model.open(model, 2, null, KvType.F16, cache); KvCache kv = m.newCache(0)) {
            return m.forwardPass().forwardSequence(TestModels.story(), 0, kv, true);
        }
    }
}
