package org.memwall.quant;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.assertj.core.data.Offset;
import org.junit.jupiter.api.Test;
import org.memwall.Conformance;
import org.memwall.gguf.GgmlType;
import org.memwall.gguf.GgufFile;
import org.memwall.gguf.TensorInfo;

/**
 * Decodes real llama.cpp blocks: every tensor of every quantized model in
 * {@code ../shared/conformance/models} must dequantize close to the same tensor of the F32 file it
 * was quantized from, and dot products over its rows must match the dequantized rows.
 */
class QuantConformanceTest {
    /**
     * Largest relative L2 error ||dequantized − f32|| / ||f32|| allowed per tensor, per type: the
     * maximum measured over the conformance models (random weights; in brackets) with ~30% headroom.
     * Quantization error, not decoding error: a misread scale or nibble order gives errors near 1.
     */
    private static final Map<GgmlType, Double> BOUND = new EnumMap<>(Map.ofEntries(
            Map.entry(GgmlType.F32, 0.0),     // [0]: tensors llama-quantize keeps as F32 are copied bit for bit
            Map.entry(GgmlType.F16, 3e-4),    // [2.1e-4]
            Map.entry(GgmlType.BF16, 2.5e-3), // [1.7e-3]
            Map.entry(GgmlType.Q8_0, 7e-3),   // [5.4e-3]
            Map.entry(GgmlType.Q6_K, 0.025),  // [0.018]
            Map.entry(GgmlType.Q5_0, 0.055),  // [0.043]
            Map.entry(GgmlType.Q5_1, 0.05),   // [0.038]
            Map.entry(GgmlType.Q5_K, 0.05),   // [0.036]
            Map.entry(GgmlType.Q4_0, 0.11),   // [0.086]
            Map.entry(GgmlType.Q4_1, 0.10),   // [0.079]
            Map.entry(GgmlType.Q4_K, 0.095),  // [0.072]
            Map.entry(GgmlType.IQ4_NL, 0.11), // not in the conformance set; bounded like Q4_0
            Map.entry(GgmlType.MXFP4, 0.15),  // [0.115]
            Map.entry(GgmlType.Q3_K, 0.2),    // [0.152]
            Map.entry(GgmlType.Q2_K, 0.37))); // [0.299]

    private record Measured(String file, String tensor, GgmlType type, double relL2) {
    }

    @Test
    void everyQuantizedModelTensorDequantizesCloseToItsF32Source() throws IOException {
        Path models = Conformance.file("models");
        List<Path> quantized;
        try (Stream<Path> files = Files.list(models)) {
            quantized = files.filter(p -> p.toString().endsWith(".gguf") && !p.getFileName().toString().endsWith("-f32.gguf"))
                    .filter(p -> Files.exists(f32Source(p)))
                    .sorted()
                    .toList();
        }
        assertThat(quantized).as("quantized models beside their -f32.gguf in %s", models).isNotEmpty();

        List<Measured> measured = new ArrayList<>();
        for (Path file : quantized) {
            measured.addAll(compare(file, f32Source(file)));
        }

        Map<GgmlType, Measured> worst = new TreeMap<>();
        for (Measured m : measured) {
            worst.merge(m.type(), m, (a, b) -> a.relL2() >= b.relL2() ? a : b);
        }
        for (Measured m : worst.values()) {
            double mean = measured.stream().filter(t -> t.type() == m.type()).mapToDouble(Measured::relL2).average().orElseThrow();
            long count = measured.stream().filter(t -> t.type() == m.type()).count();
            System.out.printf("%-7s %3d tensors  mean relative L2 %.3e  max %.3e (%s %s)%n",
                    m.type(), count, mean, m.relL2(), m.file(), m.tensor());
        }
        for (Measured m : measured) {
            assertThat(BOUND).as("a bound for %s", m.type()).containsKey(m.type());
            assertThat(m.relL2()).as("relative L2 of %s %s (%s)", m.file(), m.tensor(), m.type()).isLessThanOrEqualTo(BOUND.get(m.type()));
        }
        assertThat(worst).as("types met in the conformance models").containsKeys(
                GgmlType.Q8_0, GgmlType.Q4_0, GgmlType.Q4_1, GgmlType.Q5_0, GgmlType.Q5_1, GgmlType.Q2_K,
                GgmlType.Q3_K, GgmlType.Q4_K, GgmlType.Q5_K, GgmlType.Q6_K, GgmlType.F16, GgmlType.BF16, GgmlType.MXFP4);
    }

    /** {@code ARCH-TYPE.gguf} → {@code ARCH-f32.gguf}. */
    private static Path f32Source(Path quantized) {
        String name = quantized.getFileName().toString();
        return quantized.resolveSibling(name.substring(0, name.lastIndexOf('-')) + "-f32.gguf");
    }

    private static List<Measured> compare(Path quantizedPath, Path f32Path) {
        List<Measured> out = new ArrayList<>();
        Random random = new Random(7);
        try (GgufFile quantized = GgufFile.open(quantizedPath); GgufFile f32 = GgufFile.open(f32Path)) {
            for (TensorInfo q : quantized.tensors().values()) {
                TensorInfo ref = f32.tensorInfo(q.name());
                assertThat(ref).as("%s in %s", q.name(), f32Path).isNotNull();
                assertThat(ref.type()).isEqualTo(GgmlType.F32);
                assertThat(ref.dims()).as("dims of %s", q.name()).containsExactly(q.dims());

                QuantFormat format = QuantFormat.of(q.type());
                QuantFormat f32Format = QuantFormat.of(GgmlType.F32);
                MemorySegment qData = quantized.tensorData(q);
                MemorySegment refData = f32.tensorData(ref);
                int rowLength = Math.toIntExact(q.rowLength());
                float[] row = new float[rowLength];
                float[] refRow = new float[rowLength];
                float[] x = new float[rowLength];
                double err = 0;
                double norm = 0;
                for (long r = 0; r < q.rowCount(); r++) {
                    long first = r * rowLength;
                    format.dequantize(qData, first, row, 0, rowLength);
                    f32Format.dequantize(refData, first, refRow, 0, rowLength);
                    double exact = 0;
                    double magnitude = 0;
                    for (int i = 0; i < rowLength; i++) {
                        double diff = (double) row[i] - refRow[i];
                        err += diff * diff;
                        norm += (double) refRow[i] * refRow[i];
                        x[i] = random.nextFloat() * 2 - 1;
                        exact += (double) row[i] * x[i];
                        magnitude += Math.abs((double) row[i] * x[i]);
                    }
                    assertThat((double) format.dot(qData, first, x, 0, rowLength))
                            .as("dot of row %d of %s %s", r, quantizedPath.getFileName(), q)
                            .isCloseTo(exact, Offset.offset(BlockTesting.DOT_TOLERANCE * magnitude + 1e-30));
                }
                double relL2 = norm == 0 ? Math.sqrt(err) : Math.sqrt(err / norm);
                out.add(new Measured(quantizedPath.getFileName().toString(), q.name(), q.type(), relL2));
            }
        }
        return out;
    }
}
