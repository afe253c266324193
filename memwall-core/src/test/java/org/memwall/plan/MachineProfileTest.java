package org.memwall.plan;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.lang.foreign.Arena;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.memwall.MemwallException;
import org.memwall.gguf.GgmlType;
import org.memwall.quant.Interleaved;
import org.memwall.tensor.Parallel;
import org.memwall.tensor.Tensor;

class MachineProfileTest {
    /** A measured machine with rates set here, so the step's arithmetic can be checked exactly. */
    private static final Hardware RATES = new Hardware(MachineProfile.ID, "test machine", 1L << 34, 20e9, Map.of(), Double.NaN, Double.NaN, "dram",
            0, Map.of(GgmlType.Q8_0, 15e9, GgmlType.Q4_0, 12e9), Map.of(GgmlType.Q8_0, 60e9, GgmlType.Q4_0, 50e9), 3e-6, 8e9, 20e9, 1e-6, Map.of());

    @Test
    void aDifferenceDrownedInNoiseFallsBackToABoundNotToANanosecond() {
        assertThat(MachineProfile.noiseProof(2e-4, 1e-4, 3e-3)).isEqualTo(2e-4);
        assertThat(MachineProfile.noiseProof(-1e-5, 1e-4, 3e-3)).isEqualTo(1e-4);
        assertThat(MachineProfile.noiseProof(0, -2e-5, 3e-3)).isEqualTo(3e-3);
    }

    @Test
    void measuresTheFormatsAskedForAndAttention() {
        // One format and 32 MiB keep it short (the CLI streams 96 MiB per format).
        Hardware machine = MachineProfile.measure(2, 32L << 20, List.of(GgmlType.Q4_0), org.memwall.model.KvType.F16);
        assertThat(machine.id()).isEqualTo("this-machine");
        assertThat(machine.measured()).isTrue();
        assertThat(machine.streamRates()).containsOnlyKeys(GgmlType.Q4_0);
        assertThat(machine.tileRates()).containsOnlyKeys(GgmlType.Q4_0);
        // Physical bounds of any machine this runs on: above 100 MB/s and 100 MFLOP/s, below 10 TB/s and 100 TFLOP/s.
        assertThat(machine.bandwidth()).isBetween(1e8, 1e13);
        assertThat(machine.streamRates().values()).allSatisfy(r -> assertThat(r).isBetween(1e8, 1e13));
        assertThat(machine.tileRates().values()).allSatisfy(r -> assertThat(r).isBetween(1e8, 1e14));
        assertThat(machine.attentionRate()).isBetween(1e7, 1e14);
        assertThat(machine.promptAttentionRate()).isBetween(1e7, 1e14);
        assertThat(machine.tokenLayerSeconds()).isZero(); // no model's layer asked for
        assertThat(machine.dispatchSeconds()).isBetween(1e-8, 1e-2);
        assertThat(machine.memoryBytes()).isGreaterThan(1L << 28);
    }

    @Test
    void aPromptsProductsAreTheModelsLayerMatricesByFormatAndShape() {
        // Llama-3.2-1B in Q4_K_M: per layer Q 2048x2048, K and V 512x2048, O 2048x2048, gate and up 8192x2048, down 2048x8192;
        // llama-quantize gives V and down Q6_K in half the layers (8 of 16 here), Q4_K elsewhere; the tied embedding is the
        // output matrix, multiplied for a prompt's last token only, so it is no prompt product.
        ModelSpec m = ModelSpec.named("llama-3.2-1b");
        List<MachineProfile.Product> products = MachineProfile.products(m, WeightType.parse("Q4_K_M"));
        assertThat(products).containsExactlyInAnyOrder(new MachineProfile.Product(GgmlType.Q4_K, 2048, 2048, 32),
                new MachineProfile.Product(GgmlType.Q4_K, 512, 2048, 16 + 8), new MachineProfile.Product(GgmlType.Q6_K, 512, 2048, 8),
                new MachineProfile.Product(GgmlType.Q4_K, 8192, 2048, 32), new MachineProfile.Product(GgmlType.Q4_K, 2048, 8192, 8),
                new MachineProfile.Product(GgmlType.Q6_K, 2048, 8192, 8));
        long weights = products.stream().mapToLong(p -> (long) p.rows() * p.columns() * p.count()).sum();
        assertThat(weights).isEqualTo(16L * (2 * 2048 * 2048 + 2 * 512 * 2048 + 3 * 8192 * 2048));
    }

    @Test
    void aLayersOtherWorkIsMeasuredOnALayerOfTheModelsShape() {
        // A small llama layer (512 wide, 8 heads of 64, feed-forward 1,024) in Q8_0: 64-token prompts less their products and
        // attention. Bounds: above nothing (norms, RoPE, SiLU over 1,024 and the KV stores take time) and below 10 ms a token.
        org.memwall.model.ModelConfig layer = ModelSpec.named("llama-3.2-1b").config();
        layer = new org.memwall.model.ModelConfig(layer.architecture(), 512, 1, 8, 2, 64, 64, 1024, layer.contextLength(), layer.rmsEps(),
                layer.ropeBase(), 64, layer.ropeScaling(), 1f, 1f, layer.attentionScale(), 1f, 0, 0, 0, null);
        double seconds = MachineProfile.tokenLayerSeconds(2, org.memwall.model.KvType.F16, layer, GgmlType.Q8_0, 64, 1e10);
        assertThat(seconds).isBetween(0.0, 1e-2);
        // No layer memwall writes for experts: not measured.
        assertThat(MachineProfile.tokenLayerSeconds(2, org.memwall.model.KvType.F16, ModelSpec.named("gpt-oss-20b").config(), GgmlType.Q8_0, 64,
                1e10)).isZero();
    }

    @Test
    void theTileRateIsTimedOnTheProductsAsked() {
        // Two shapes of one format at 16 tokens: a rate in physical bounds (FLOPs over seconds of both).
        try (Parallel pool = new Parallel(2)) {
            double rate = MachineProfile.tileRate(pool, List.of(new MachineProfile.Product(GgmlType.Q8_0, 256, 512, 2),
                    new MachineProfile.Product(GgmlType.Q8_0, 64, 1024, 1)), 16);
            assertThat(rate).isBetween(1e7, 1e14);
        }
    }

    @Test
    void theStreamRateIsTimedOnTheProductsAsked() {
        // Two shapes of one format, one larger than the bytes streamed (timed on fewer of its rows): a rate in physical
        // bounds, bytes over seconds of both.
        try (Parallel pool = new Parallel(2)) {
            double rate = MachineProfile.streamRate(pool, List.of(new MachineProfile.Product(GgmlType.Q4_0, 256, 512, 2),
                    new MachineProfile.Product(GgmlType.Q4_0, 65536, 512, 1)), 1L << 20);
            assertThat(rate).isBetween(1e8, 1e13);
        }
    }

    @Test
    void theMatrixTimedIsTheCopyAModelsKernelsRead() {
        // Model.open repacks Q4_0, Q8_0, Q4_K and Q6_K into row-interleaved copies; the profile must time those, not the file's blocks.
        try (Parallel pool = new Parallel(2); Arena arena = Arena.ofConfined()) {
            for (GgmlType t : List.of(GgmlType.Q4_0, GgmlType.Q8_0, GgmlType.Q4_K, GgmlType.Q6_K)) {
                Tensor w = MachineProfile.matrix(arena, pool, t, 64);
                assertThat(w.interleaved() != null).as(t.toString()).isEqualTo(Interleaved.AVAILABLE);
                if (w.interleaved() != null) {
                    assertThat(w.interleaved().int8Activations()).as(t.toString()).isEqualTo(t != GgmlType.Q8_0);
                }
            }
            assertThat(MachineProfile.matrix(arena, pool, GgmlType.F16, 64).interleaved()).isNull();
        }
    }

    @Test
    void aMeasuredMachinesDecodeShareIsTheMedianOfItsFitRunsAndPredictsTheHeldOutRunsBetterThanNone() {
        List<Calibration.MachineRun> runs = Calibration.machineRuns();
        double[] fit = runs.stream().filter(Calibration.MachineRun::fit).mapToDouble(r -> r.bench() / r.plan()).sorted().toArray();
        assertThat(fit).hasSizeGreaterThanOrEqualTo(3);
        double share = Efficiency.MEASURED.bandwidth();
        assertThat(share).isEqualTo(Efficiency.measuredDecodeShare()).isBetween(fit[0], fit[fit.length - 1]).isLessThan(1);
        // a median: at least half of the fit runs on each side
        assertThat(java.util.Arrays.stream(fit).filter(r -> r <= share).count()).isGreaterThanOrEqualTo(fit.length / 2);
        assertThat(java.util.Arrays.stream(fit).filter(r -> r >= share).count()).isGreaterThanOrEqualTo(fit.length / 2);
        // the held-out runs (never fitted on): the median error within ±15%, and smaller than the plans' without the share
        List<Calibration.MachineRun> heldOut = runs.stream().filter(r -> !r.fit()).toList();
        assertThat(heldOut).hasSizeGreaterThanOrEqualTo(3);
        double withShare = medianAbsoluteError(heldOut, share);
        assertThat(withShare).isLessThanOrEqualTo(0.15).isLessThan(medianAbsoluteError(heldOut, 1));
        // the other factors stay those of a measured machine
        assertThat(Efficiency.MEASURED.compute()).isEqualTo(1);
        assertThat(Efficiency.MEASURED.layerSeconds()).isZero();
    }

    private static double medianAbsoluteError(List<Calibration.MachineRun> runs, double share) {
        double[] e = runs.stream().mapToDouble(r -> Math.abs(r.plan() * share / r.bench() - 1)).sorted().toArray();
        return e.length % 2 == 1 ? e[e.length / 2] : (e[e.length / 2 - 1] + e[e.length / 2]) / 2;
    }

    @Test
    void decodeOnAMeasuredMachineIsItsFormatsStreamTimesAttentionAndTheDispatchesOfItsLayers() {
        ModelSpec m = ModelSpec.named("llama-3.2-1b");
        WeightType q8 = WeightType.parse("Q8_0");
        Roofline r = new Roofline(m, q8, KvType.F16, RATES, Efficiency.IDEAL, 1);
        double stream = 0;
        for (ModelSpec.Matrix t : m.tensors()) {
            if (t.role() != ModelSpec.Role.SMALL) {
                stream += q8.bytes(t, m) / RATES.streamRate(q8.format(t, m));
            }
        }
        // 16 layers of 7 products and one attention, and the logits' product, and 1 µs per token and layer of the layers'
        // other work: nothing else at no context.
        double dispatches = (16 * 8 + 1) * 3e-6 + 16 * 1e-6;
        assertThat(r.decodeStep(1, 0)).isCloseTo(stream + dispatches, within(1e-12));
        // At 1,000 positions attention runs at the measured rate (4 · 32 heads · 64 per position and layer); it outlasts the
        // 16 · 1,000 · 8 heads · 64 · (K + V) · 2 bytes of F16 KV at the bandwidth.
        double attention = 4.0 * 32 * 64 * 1000 * 16 / 8e9;
        assertThat(16 * 1000 * 8 * 64 * 2 * 2.0 / 20e9).isLessThan(attention);
        assertThat(r.decodeStep(1, 1000)).isCloseTo(stream + attention + dispatches, within(1e-12));
    }

    @Test
    void aPromptOnAMeasuredMachineRunsItsProductsAtTheTileRatesAndItsLogitsForOneToken() {
        ModelSpec m = ModelSpec.named("llama-3.2-1b");
        WeightType q8 = WeightType.parse("Q8_0");
        Roofline r = new Roofline(m, q8, KvType.F16, RATES, Efficiency.IDEAL, 1);
        double layers = 0;
        double output = 0;
        for (ModelSpec.Matrix t : m.tensors()) {
            if (t.role() == ModelSpec.Role.EMBEDDING) {
                output = q8.bytes(t, m) / 15e9; // tied: the embedding is the output matrix, streamed once for the last token
            } else if (t.role() != ModelSpec.Role.SMALL) {
                layers += 512 * 2.0 * t.elements() / 60e9;
            }
        }
        // A prompt's tokens attend at the prompt attention rate (20 GFLOP/s here), not the decode steps' (8).
        double attention = 512 * 4.0 * 32 * 64 * (513 / 2.0) * 16 / 20e9;
        assertThat(r.prefill(512)).isCloseTo(layers + output + attention + (16 * 8 + 1) * 3e-6 + 512 * 16 * 1e-6, within(1e-12));
    }

    @Test
    void aFormatThatWasNotMeasuredIsNamed() {
        ModelSpec m = ModelSpec.named("llama-3.2-1b");
        assertThatThrownBy(() -> new Roofline(m, WeightType.parse("Q4_K_M"), KvType.F16, RATES, Efficiency.IDEAL, 1))
                .isInstanceOf(MemwallException.class).hasMessageContaining("no measured decode rate for Q");
        assertThatThrownBy(() -> new Roofline(m, WeightType.parse("fp8"), KvType.F16, RATES, Efficiency.IDEAL, 1))
                .isInstanceOf(MemwallException.class).hasMessageContaining("no measured decode rate for BF16");
        assertThatThrownBy(() -> MachineProfile.measure(1, 1 << 20, List.of(GgmlType.MXFP4), org.memwall.model.KvType.F16))
                .isInstanceOf(MemwallException.class).hasMessageContaining("cannot measure MXFP4");
    }

    @Test
    void theDispatchMeasuredWakesEveryThreadOfThePool() {
        // A dispatch that the caller runs alone costs nothing a decode step pays: every thread must take part.
        try (Parallel pool = new Parallel(3)) {
            boolean[] ran = new boolean[3];
            assertThat(MachineProfile.dispatchSeconds(pool, ran)).isPositive();
            assertThat(ran).containsOnly(true);
        }
    }
}
