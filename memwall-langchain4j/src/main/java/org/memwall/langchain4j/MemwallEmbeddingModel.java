package org.memwall.langchain4j;

import dev.langchain4j.data.embedding.Embedding;
import dev.langchain4j.data.segment.TextSegment;
import dev.langchain4j.model.embedding.EmbeddingModel;
import dev.langchain4j.model.output.Response;
import java.util.ArrayList;
import java.util.List;
import org.memwall.server.Memwall;

/** LangChain4j's {@link EmbeddingModel} on a {@link Memwall} in process: L2-normalised vectors pooled as the model file declares. */
public final class MemwallEmbeddingModel implements EmbeddingModel {
    private final Memwall memwall;

    public MemwallEmbeddingModel(Memwall memwall) {
        this.memwall = memwall;
    }

    @Override
    public Response<List<Embedding>> embedAll(List<TextSegment> segments) {
        float[][] vectors = memwall.embed(segments.stream().map(TextSegment::text).toList());
        List<Embedding> out = new ArrayList<>();
        for (float[] v : vectors) {
            out.add(Embedding.from(v));
        }
        return Response.from(out);
    }

    @Override
    public int dimension() {
        return memwall.dimensions();
    }
}
