package org.memwall.gguf;

import java.io.IOException;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Test helper: cuts a GGUF file into parts the way llama.cpp's {@code gguf-split --split-max-tensors N}
 * does: the first part keeps all metadata, every part gets {@code split.no} / {@code split.count}, the
 * first part {@code split.tensors.count}, and tensors go to the parts in directory order.
 */
public final class SplitWriter {
    private SplitWriter() {
    }

    /** Writes the parts beside each other in {@code dir}; returns their paths in order. */
    public static List<Path> split(Path whole, Path dir, String prefix, int maxTensorsPerPart) throws IOException {
        List<Path> parts = new ArrayList<>();
        try (GgufFile src = GgufFile.open(whole)) {
            List<TensorInfo> tensors = new ArrayList<>(src.tensors().values());
            int count = (tensors.size() + maxTensorsPerPart - 1) / maxTensorsPerPart;
            for (int no = 0; no < count; no++) {
                GgufWriter w = new GgufWriter();
                if (no == 0) {
                    src.metadata().asMap().forEach(w::put);
                }
                w.put(GgufSplit.NO, new MetadataValue(ValueType.UINT16, (short) no));
                w.put(GgufSplit.COUNT, new MetadataValue(ValueType.UINT16, (short) count));
                w.put(GgufSplit.TENSORS_COUNT, new MetadataValue(ValueType.INT32, tensors.size()));
                for (TensorInfo t : tensors.subList(no * maxTensorsPerPart, Math.min(tensors.size(), (no + 1) * maxTensorsPerPart))) {
                    w.addTensor(t.name(), t.type(), t.dims(), src.tensorData(t).toArray(ValueLayout.JAVA_BYTE));
                }
                Path part = dir.resolve(GgufSplit.partName(prefix, no + 1, count));
                w.write(part);
                parts.add(part);
            }
        }
        return parts;
    }
}
