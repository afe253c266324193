package org.memwall.plan;

import java.util.EnumSet;
import java.util.Locale;
import java.util.Set;
import org.memwall.MemwallException;
import org.memwall.gguf.GgmlType;
import org.memwall.synth.SyntheticModel;

/**
 * How the weights are stored and multiplied. GGUF types follow llama.cpp's per-tensor choices
 * ({@link SyntheticModel#typeFor}); datacenter types follow how engines ship checkpoints: FP8 and
 * NVFP4 (4.5 bits: 16 values and one FP8 scale) quantize the layers' matrices and keep embeddings and
 * the output in BF16; MXFP4 (4.25 bits: 32 values and one 8-bit scale) quantizes a MoE model's experts
 * only, as gpt-oss ships, and every layer matrix of a dense model.
 */
public sealed interface WeightType {
    /** The file's own types (a GGUF path). */
    WeightType FILE = new FileTypes();

    String label();

    /** Bytes of {@code m} stored this way. */
    long bytes(ModelSpec.Matrix m, ModelSpec model);

    /** The ggml format of {@code m} (for a measured machine's per-format kernel rates); null where ggml has none (FP8, NVFP4). */
    GgmlType format(ModelSpec.Matrix m, ModelSpec model);

    /** The ggml formats of {@code model}'s matrices stored this way (norms and biases left out); empty where ggml has none. */
    default Set<GgmlType> formats(ModelSpec model) {
        Set<GgmlType> out = EnumSet.noneOf(GgmlType.class);
        for (ModelSpec.Matrix m : model.tensors()) {
            GgmlType f = m.role() == ModelSpec.Role.SMALL ? null : format(m, model);
            if (f != null) {
                out.add(f);
            }
        }
        return out;
    }

    /** The precision its matrix products run in on an accelerator. */
    Precision compute();

    static WeightType parse(String s) {
        String n = s.toUpperCase(Locale.ROOT);
        switch (n) {
            case "FILE":
                return FILE;
            case "BF16", "F16":
                return new Datacenter(s.toLowerCase(Locale.ROOT), 16, Precision.BF16, false);
            case "FP8":
                return new Datacenter("fp8", 8, Precision.FP8, false);
            case "FP4", "NVFP4":
                return new Datacenter("fp4", 4.5, Precision.FP4, false);
            case "MXFP4":
                return new Datacenter("mxfp4", 4.25, Precision.FP4, true);
            default:
                break;
        }
        try {
            return new Gguf(SyntheticModel.Mix.parse(n));
        } catch (MemwallException notAMix) {
            throw new MemwallException("unknown weight type '" + s + "' (GGUF: F32, F16, BF16, Q8_0, Q4_0, Q4_K_M; datacenter: bf16, fp8, fp4, mxfp4;"
                    + " or file for a GGUF's own types)");
        }
    }

    record FileTypes() implements WeightType {
        public String label() {
            return "file";
        }

        public long bytes(ModelSpec.Matrix m, ModelSpec model) {
            return format(m, model).bytesFor(m.elements());
        }

        public GgmlType format(ModelSpec.Matrix m, ModelSpec model) {
            if (m.fileType() == null) {
                throw new MemwallException("--type file needs a GGUF file; " + model.name() + " is a shape: give --type (e.g. bf16, fp8, Q4_K_M)");
            }
            return m.fileType();
        }

        public Precision compute() {
            return Precision.BF16;
        }
    }

    /** A llama.cpp type mix, per tensor as llama-quantize chooses. */
    record Gguf(SyntheticModel.Mix mix) implements WeightType {
        public String label() {
            return mix.name();
        }

        public long bytes(ModelSpec.Matrix m, ModelSpec model) {
            return format(m, model).bytesFor(m.elements());
        }

        public GgmlType format(ModelSpec.Matrix m, ModelSpec model) {
            return SyntheticModel.typeFor(new SyntheticModel.PlannedTensor(m.name(), m.dims(), m.layer()), mix, model.config().blockCount(),
                    !model.tiedEmbeddings());
        }

        public Precision compute() {
            return Precision.BF16;
        }
    }

    /** A datacenter engine's storage: {@code bits} per element of the quantized matrices, BF16 for the rest. */
    record Datacenter(String label, double bits, Precision compute, boolean expertsOnly) implements WeightType {
        public long bytes(ModelSpec.Matrix m, ModelSpec model) {
            return (long) Math.ceil(m.elements() * bitsOf(m, model) / 8);
        }

        private double bitsOf(ModelSpec.Matrix m, ModelSpec model) {
            return switch (m.role()) {
                case SMALL -> 32;
                case EMBEDDING, OUTPUT, ROUTER -> 16;
                case EXPERTS -> bits;
                case ATTENTION, FFN -> expertsOnly && model.config().expertCount() > 0 ? 16 : bits;
            };
        }

        public GgmlType format(ModelSpec.Matrix m, ModelSpec model) {
            double b = bitsOf(m, model);
            if (b == 32) {
                return GgmlType.F32;
            }
            if (b == 16) {
                return GgmlType.BF16;
            }
            return expertsOnly ? GgmlType.MXFP4 : null;
        }
    }
}
