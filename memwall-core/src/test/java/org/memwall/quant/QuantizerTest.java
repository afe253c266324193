package org.memwall.quant;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;
import org.memwall.Conformance;
import org.memwall.MemwallException;
import org.memwall.gguf.GgmlType;
import org.memwall.gguf.GgufFile;
import org.memwall.gguf.TensorInfo;

/**
 * Our quantizers must write the very bytes llama.cpp's {@code llama-quantize} wrote: every tensor of
 * the conformance models, re-quantized from the F32 file they came from, compared byte for byte.
 */
class QuantizerTest {

    @ParameterizedTest
    @ValueSource(strings = {"llama-Q8_0", "llama-Q4_0", "llama-Q5_0", "llama-Q4_K_M", "llama-F16", "llama-BF16", "qwen2-Q4_0", "qwen3-Q4_K_M"})
    void reproducesLlamaQuantizeByteForByte(String name) {
        Path quantizedPath = Conformance.file("models/" + name + ".gguf");
        Path sourcePath = Conformance.file("models/" + name.substring(0, name.indexOf('-')) + "-f32.gguf");
        List<String> compared = new ArrayList<>();
        try (GgufFile quantized = GgufFile.open(quantizedPath); GgufFile source = GgufFile.open(sourcePath)) {
            for (TensorInfo q : quantized.tensors().values()) {
                if (!Quantizer.supports(q.type())) {
                    continue;
                }
                TensorInfo s = source.tensorInfo(q.name());
                assertThat(s.type()).isEqualTo(GgmlType.F32);
                float[] x = source.tensorData(s).toArray(ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN));
                byte[] ours = Quantizer.quantize(q.type(), x, (int) q.rowLength());
                byte[] theirs = quantized.tensorData(q).toArray(ValueLayout.JAVA_BYTE);
                long mismatch = MemorySegment.ofArray(ours).mismatch(MemorySegment.ofArray(theirs));
                assertThat(mismatch).as("%s %s (%s): first differing byte", name, q.name(), q.type()).isEqualTo(-1);
                compared.add(q.type().name());
            }
        }
        assertThat(compared).as("quantized tensors compared").isNotEmpty();
        if (name.endsWith("Q4_K_M")) {
            assertThat(compared).contains("Q4_K", "Q6_K");
        }
    }

    @Test
    void roundsLikeC() {
        // Q8_0 of a block whose scaled values land exactly on halves: roundf goes away from zero.
        float[] x = new float[32];
        x[0] = 127f;
        x[1] = 2.5f;
        x[2] = -2.5f;
        x[3] = 0.49999997f;
        byte[] b = Quantizer.quantize(GgmlType.Q8_0, x, 32);
        assertThat(Float.float16ToFloat((short) ((b[0] & 0xFF) | b[1] << 8))).isEqualTo(1.0f);
        assertThat(new byte[] {b[2], b[3], b[4], b[5]}).containsExactly(127, 3, -3, 0);
        assertThat(Quantizer.bf16(1.00390625f)).isEqualTo((short) 0x3F80); // tie to even stays at 1.0
        assertThat(Quantizer.bf16(1.01171875f)).isEqualTo((short) 0x3F82); // tie to even rounds up
    }

    @Test
    void quantizedBlocksDecodeBackCloseToTheirSource() {
        Random random = new Random(7);
        float[] x = new float[4096];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) random.nextGaussian();
        }
        for (GgmlType type : Quantizer.supported()) {
            byte[] bytes = Quantizer.quantize(type, x, 1024);
            assertThat((long) bytes.length).isEqualTo(type.bytesFor(x.length));
            float[] back = new float[x.length];
            QuantFormat.of(type).dequantize(MemorySegment.ofArray(bytes), 0, back, 0, x.length);
            double err = 0;
            double norm = 0;
            for (int i = 0; i < x.length; i++) {
                err += (back[i] - x[i]) * (double) (back[i] - x[i]);
                norm += x[i] * (double) x[i];
            }
            assertThat(Math.sqrt(err / norm)).as(type.name()).isLessThan(0.12);
        }
    }

    @Test
    void refusesWhatItCannotWrite() {
        assertThatThrownBy(() -> Quantizer.quantize(GgmlType.Q2_K, new float[256], 256))
                .isInstanceOf(MemwallException.class).hasMessageContaining("cannot quantize to Q2_K");
        assertThatThrownBy(() -> Quantizer.quantize(GgmlType.Q4_K, new float[64], 0, 64, ByteBuffer.allocate(1024)))
                .isInstanceOf(MemwallException.class).hasMessageContaining("multiple of 256");
    }
}
