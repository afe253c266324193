package org.memwall.quant;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.EnumSet;
import org.junit.jupiter.api.Test;
import org.memwall.MemwallException;
import org.memwall.gguf.GgmlType;

class FormatsTest {
    private static final EnumSet<GgmlType> IMPLEMENTED = EnumSet.of(
            GgmlType.F32, GgmlType.F16, GgmlType.BF16, GgmlType.Q8_0, GgmlType.Q4_0, GgmlType.Q4_1,
            GgmlType.Q5_0, GgmlType.Q5_1, GgmlType.Q2_K, GgmlType.Q3_K, GgmlType.Q4_K, GgmlType.Q5_K,
            GgmlType.Q6_K, GgmlType.IQ4_NL, GgmlType.MXFP4);

    @Test
    void everyImplementedTypeHasKernelsOfThatType() {
        for (GgmlType type : IMPLEMENTED) {
            assertThat(QuantFormat.of(type).type()).isEqualTo(type);
        }
    }

    @Test
    void unsupportedTypeFailsNamingItAndTheSupportedOnes() {
        assertThatThrownBy(() -> QuantFormat.of(GgmlType.IQ2_XXS))
                .isInstanceOf(MemwallException.class)
                .hasMessageContaining("IQ2_XXS")
                .hasMessageContaining("Q4_K");
    }
}
