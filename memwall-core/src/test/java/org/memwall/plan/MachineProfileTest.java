package org.memwall.plan;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.memwall.MemwallException;
import org.memwall.gguf.GgmlType;

class MachineProfileTest {
    /** One measurement for the class: 32 MiB per format keeps it short (the CLI streams 96 MiB). */
    private static final Hardware MACHINE = MachineProfile.measure(2, 32L << 20, List.of(GgmlType.Q8_0, GgmlType.Q4_0));

    @Test
    void measuresTheFormatsAskedForAndF32ForAttention() {
        assertThat(MACHINE.id()).isEqualTo("this-machine");
        assertThat(MACHINE.measured()).isTrue();
        assertThat(MACHINE.streamRates()).containsOnlyKeys(GgmlType.F32, GgmlType.Q8_0, GgmlType.Q4_0);
        assertThat(MACHINE.tileRates()).containsOnlyKeys(GgmlType.F32, GgmlType.Q8_0, GgmlType.Q4_0);
        // Physical bounds of any machine this runs on: above 100 MB/s and 100 MFLOP/s, below 10 TB/s and 100 TFLOP/s.
        assertThat(MACHINE.bandwidth()).isBetween(1e8, 1e13);
        assertThat(MACHINE.streamRates().values()).allSatisfy(r -> assertThat(r).isBetween(1e8, 1e13));
        assertThat(MACHINE.tileRates().values()).allSatisfy(r -> assertThat(r).isBetween(1e8, 1e14));
        assertThat(MACHINE.dispatchSeconds()).isBetween(1e-8, 1e-2);
        assertThat(MACHINE.memoryBytes()).isGreaterThan(1L << 28);
    }

    @Test
    void decodeOnAMeasuredMachineIsItsFormatsStreamTimesPlusTheDispatchesOfItsLayers() {
        ModelSpec m = ModelSpec.named("llama-3.2-1b");
        WeightType q8 = WeightType.parse("Q8_0");
        Roofline r = new Roofline(m, q8, KvType.F32, MACHINE, Efficiency.MEASURED, 1);
        double stream = 0;
        for (ModelSpec.Matrix t : m.tensors()) {
            if (t.role() != ModelSpec.Role.SMALL) {
                stream += q8.bytes(t, m) / MACHINE.streamRate(q8.format(t, m));
            }
        }
        // 16 layers of 7 products and one attention, and the logits' product, at no context: nothing else.
        double expected = stream + (16 * 8 + 1) * MACHINE.dispatchSeconds();
        assertThat(r.decodeStep(1, 0)).isCloseTo(expected, org.assertj.core.api.Assertions.within(expected * 1e-9));
    }

    @Test
    void theDispatchMeasuredWakesEveryThreadOfThePool() {
        // A dispatch that the caller runs alone costs nothing a decode step pays: every thread must take part.
        try (org.memwall.tensor.Parallel pool = new org.memwall.tensor.Parallel(3)) {
            boolean[] ran = new boolean[3];
            assertThat(MachineProfile.dispatchSeconds(pool, ran)).isPositive();
            assertThat(ran).containsOnly(true);
        }
    }

    @Test
    void aFormatThatWasNotMeasuredIsNamed() {
        ModelSpec m = ModelSpec.named("llama-3.2-1b");
        assertThatThrownBy(() -> new Roofline(m, WeightType.parse("Q4_K_M"), KvType.F32, MACHINE, Efficiency.MEASURED, 1))
                .isInstanceOf(MemwallException.class).hasMessageContaining("no measured decode rate for Q");
        assertThatThrownBy(() -> new Roofline(m, WeightType.parse("fp8"), KvType.F32, MACHINE, Efficiency.MEASURED, 1))
                .isInstanceOf(MemwallException.class).hasMessageContaining("no measured decode rate for BF16");
        assertThatThrownBy(() -> MachineProfile.measure(1, 1 << 20, List.of(GgmlType.MXFP4)))
                .isInstanceOf(MemwallException.class).hasMessageContaining("cannot measure MXFP4");
    }
}
