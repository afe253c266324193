package org.memwall.plan;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.memwall.gguf.GgmlType;
import org.memwall.gguf.GgufFile;
import org.memwall.gguf.TensorInfo;
import org.memwall.model.ModelConfig;
import org.memwall.synth.ModelShape;
import org.memwall.synth.SyntheticModel;

/**
 * What the planner needs of a model: its hyper-parameters and every tensor's shape and role, from a
 * GGUF file's metadata and tensor directory (no weight is read) or from a named {@link ModelShape}.
 *
 * @param fileTypes whether the tensors carry the types of a real file ({@link WeightType#FILE} uses them)
 */
public record ModelSpec(String name, ModelConfig config, List<Matrix> tensors, boolean fileTypes) {

    /** What a tensor does, which decides how often a token reads it and how a datacenter engine stores it. */
    public enum Role { EMBEDDING, OUTPUT, ATTENTION, FFN, EXPERTS, ROUTER, SMALL }

    /** One tensor: ggml dims (row length first), its layer (−1 outside the blocks), role, and the file's type if any. */
    public record Matrix(String name, long[] dims, int layer, Role role, GgmlType fileType) {
        public long elements() {
            long n = 1;
            for (long d : dims) {
                n *= d;
            }
            return n;
        }
    }

    /** A GGUF path when {@code model} names a file, else a shape name. */
    public static ModelSpec of(String model) {
        Path p = Path.of(model);
        return model.endsWith(".gguf") || Files.isRegularFile(p) ? fromFile(p) : named(model);
    }

    public static ModelSpec named(String shape) {
        ModelShape s = ModelShape.named(shape);
        List<Matrix> out = new ArrayList<>();
        for (SyntheticModel.PlannedTensor t : SyntheticModel.tensors(s)) {
            out.add(new Matrix(t.name(), t.dims(), t.layer(), role(t.name(), t.dims().length), null));
        }
        return new ModelSpec(shape, s.config(), List.copyOf(out), false);
    }

    /** Reads the metadata and tensor directory only (the file is mapped, not read). */
    public static ModelSpec fromFile(Path path) {
        try (GgufFile f = GgufFile.open(path)) {
            List<Matrix> out = new ArrayList<>();
            for (TensorInfo t : f.tensors().values()) {
                out.add(new Matrix(t.name(), t.dims(), layerOf(t.name()), role(t.name(), t.dims().length), t.type()));
            }
            return new ModelSpec(path.getFileName().toString(), ModelConfig.from(f.metadata()), List.copyOf(out), true);
        }
    }

    public boolean tiedEmbeddings() {
        return tensors.stream().noneMatch(m -> m.role() == Role.OUTPUT);
    }

    private static Role role(String name, int rank) {
        if (name.equals("token_embd.weight")) {
            return Role.EMBEDDING;
        }
        if (name.equals("output.weight")) {
            return Role.OUTPUT;
        }
        if (rank == 1 || name.endsWith(".bias") || name.contains("norm") || name.contains("sinks") || name.startsWith("rope_")) {
            return Role.SMALL;
        }
        if (name.contains("_exps")) {
            return Role.EXPERTS;
        }
        if (name.contains("ffn_gate_inp")) {
            return Role.ROUTER;
        }
        return name.contains(".attn_") ? Role.ATTENTION : Role.FFN;
    }

    private static int layerOf(String name) {
        if (!name.startsWith("blk.")) {
            return -1;
        }
        int dot = name.indexOf('.', 4);
        return Integer.parseInt(name.substring(4, dot));
    }
}
