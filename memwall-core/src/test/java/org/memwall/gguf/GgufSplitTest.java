package org.memwall.gguf;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.memwall.MemwallException;
import org.memwall.model.Model;
import org.memwall.synth.ModelShape;
import org.memwall.synth.SyntheticModel;

/** A synthesized model cut into parts as gguf-split cuts them loads from its first part. */
class GgufSplitTest {
    @TempDir
    static Path dir;
    static Path whole;
    static List<Path> parts;

    @BeforeAll
    static void writeAModelAndSplitIt() throws IOException {
        ModelShape real = ModelShape.named("llama-3.2-1b");
        ModelShape small = new ModelShape("small-llama", "llama", 2, 128, 4, 2, 32, 256, 512 + real.specials().size() + 5, 512,
                real.tiedEmbeddings(), 256, real.ropeBase(), real.rmsEpsilon(), real.preTokenizer(), real.specials(), 512, 513,
                real.ropeFactors(), 0, 0, 0);
        whole = dir.resolve("small.gguf");
        SyntheticModel.write(small, SyntheticModel.Mix.Q8_0, 7, whole, t -> { });
        parts = SplitWriter.split(whole, dir, "small", 5);
    }

    @Test
    void theFirstPartLoadsTheWholeModelWithTheSameLogits() {
        assertThat(parts).hasSizeGreaterThanOrEqualTo(3);
        int[] tokens = {1, 50, 300, 7, 99};
        try (Model one = Model.open(whole, 1); Model split = Model.open(parts.get(0), 1)) {
            assertThat(split.file().partCount()).isEqualTo(parts.size());
            assertThat(split.file().tensors().keySet()).containsExactlyElementsOf(one.file().tensors().keySet());
            float[] expected = one.transformer().forwardSequence(tokens, 0, one.newCache(0), true);
            float[] actual = split.transformer().forwardSequence(tokens, 0, split.newCache(0), true);
            assertThat(actual).isEqualTo(expected);
        }
    }

    @Test
    void aLaterPartNamesTheFirstOne() {
        assertThatThrownBy(() -> GgufFile.open(parts.get(1))).isInstanceOf(MemwallException.class)
                .hasMessage(parts.get(1) + " is part 2 of " + parts.size() + " of a split model; open its first part, "
                        + GgufSplit.partName("small", 1, parts.size()));
    }

    @Test
    void aMissingPartIsNamed(@TempDir Path other) throws IOException {
        for (Path p : parts.subList(0, parts.size() - 1)) {
            Files.copy(p, other.resolve(p.getFileName()));
        }
        String last = parts.getLast().getFileName().toString();
        assertThatThrownBy(() -> GgufFile.open(other.resolve(parts.get(0).getFileName()))).isInstanceOf(MemwallException.class)
                .hasMessage("split model part " + last + " is missing from " + other);
    }

    @Test
    void aRenamedFirstPartSaysWhyItsPartsCannotBeFound(@TempDir Path other) throws IOException {
        Path renamed = other.resolve("model.gguf");
        Files.copy(parts.get(0), renamed);
        assertThatThrownBy(() -> GgufFile.open(renamed)).isInstanceOf(MemwallException.class)
                .hasMessageContaining("is the first of " + parts.size() + " parts of a split model, but its name is not NAME-00001-of-");
    }

    @Test
    void partsFromAnotherSplitAreRejected(@TempDir Path other) throws IOException {
        for (Path p : parts) {
            Files.copy(p, other.resolve(p.getFileName()));
        }
        // Part 3 in the place of part 2: its split.no says 2, its name says 1.
        Files.copy(parts.get(2), other.resolve(parts.get(1).getFileName()), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        assertThatThrownBy(() -> GgufFile.open(other.resolve(parts.get(0).getFileName()))).isInstanceOf(GgufFormatException.class)
                .hasMessageContaining("expected split part 2 of " + parts.size() + ", found split.no 2");
    }
}
