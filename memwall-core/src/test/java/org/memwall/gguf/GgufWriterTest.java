package org.memwall.gguf;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.memwall.TestModels;
import org.memwall.synth.SyntheticModel;

class GgufWriterTest {
    @TempDir
    Path tmp;

    @Test
    void everyValueTypeRoundTripsIncludingNestedArraysAndUnsignedExtremes() throws IOException {
        MetadataValue.Array inner1 = new MetadataValue.Array(ValueType.UINT8, new byte[] {(byte) 255, 0});
        MetadataValue.Array inner2 = new MetadataValue.Array(ValueType.UINT8, new byte[] {7});
        GgufWriter w = new GgufWriter()
                .put("u8", new MetadataValue(ValueType.UINT8, (byte) -1))
                .put("i8", new MetadataValue(ValueType.INT8, (byte) -128))
                .put("u16", new MetadataValue(ValueType.UINT16, (short) -1))
                .put("i16", new MetadataValue(ValueType.INT16, (short) -5))
                .putU32("u32", -1)
                .putI32("i32", Integer.MIN_VALUE)
                .putF32("f32", 1.5f)
                .putBool("bool", true)
                .putString("str", "한국어 ✓")
                .putU64("u64", -1L)
                .put("i64", new MetadataValue(ValueType.INT64, Long.MIN_VALUE))
                .put("f64", new MetadataValue(ValueType.FLOAT64, Math.PI))
                .putArray("strings", ValueType.STRING, new String[] {"a", "", "▁b"})
                .putArray("floats", ValueType.FLOAT32, new float[] {1f, -2f})
                .putArray("nested", ValueType.ARRAY, new MetadataValue.Array[] {inner1, inner2})
                .addTensor("t", GgmlType.F32, new long[] {4, 2}, new byte[32]);
        Path file = tmp.resolve("all.gguf");
        w.write(file);
        try (GgufFile g = GgufFile.open(file)) {
            GgufMetadata md = g.metadata();
            assertThat(md.getLong("u8")).isEqualTo(255);
            assertThat(md.getLong("i8")).isEqualTo(-128);
            assertThat(md.getLong("u16")).isEqualTo(65535);
            assertThat(md.getLong("i16")).isEqualTo(-5);
            assertThat(md.getLong("u32")).isEqualTo(4294967295L);
            assertThat(md.getLong("i32")).isEqualTo(Integer.MIN_VALUE);
            assertThat(md.getFloat("f32")).isEqualTo(1.5f);
            assertThat(md.getBoolean("bool", false)).isTrue();
            assertThat(md.getString("str")).isEqualTo("한국어 ✓");
            assertThat(md.get("u64").value()).isEqualTo(-1L);
            assertThat(md.getLong("i64")).isEqualTo(Long.MIN_VALUE);
            assertThat(md.get("f64").asDouble()).isEqualTo(Math.PI);
            assertThat(md.getStringArray("strings")).containsExactly("a", "", "▁b");
            assertThat(md.getFloatArray("floats")).containsExactly(1f, -2f);
            MetadataValue.Array[] nested = (MetadataValue.Array[]) md.getArray("nested").values();
            assertThat(nested).hasSize(2);
            assertThat((byte[]) nested[0].values()).containsExactly((byte) 255, (byte) 0);
            assertThat(g.tensorInfo("t").dims()).containsExactly(4, 2);
            assertThat(g.dataOffset() % 32).isZero();
        }
    }

    /** stories260K as llama.cpp's converter wrote it (no general.alignment), and a synthesized Q4_K_M (Q4_K, Q6_K and F32 tensors). */
    @Test
    void rewritingAModelKeepsMetadataAndTensorBytes() throws IOException {
        for (Path src : new Path[] {TestModels.stories(), TestModels.small("llama", SyntheticModel.Mix.Q4_K_M)}) {
            Path copy = tmp.resolve("copy-" + src.getFileName());
            try (GgufFile in = GgufFile.open(src)) {
                GgufWriter w = new GgufWriter();
                in.metadata().asMap().forEach(w::put);
                for (TensorInfo t : in.tensors().values()) {
                    w.addTensor(t.name(), t.type(), t.dims(), in.tensorData(t).toArray(java.lang.foreign.ValueLayout.JAVA_BYTE));
                }
                w.write(copy);
                try (GgufFile out = GgufFile.open(copy)) {
                    assertThat(out.metadata().asMap().keySet()).containsExactlyElementsOf(in.metadata().asMap().keySet());
                    assertThat(out.metadata().getStringArray("tokenizer.ggml.tokens")).containsExactly(in.metadata().getStringArray("tokenizer.ggml.tokens"));
                    for (TensorInfo t : in.tensors().values()) {
                        TensorInfo o = out.tensorInfo(t.name());
                        assertThat(o.type()).isEqualTo(t.type());
                        assertThat(out.tensorData(o).mismatch(in.tensorData(t))).as(t.name()).isEqualTo(-1);
                    }
                }
            }
            assertThat(Files.size(copy)).as(src.getFileName().toString()).isEqualTo(Files.size(src));
        }
    }
}
