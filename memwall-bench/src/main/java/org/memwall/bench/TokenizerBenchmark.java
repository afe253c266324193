package org.memwall.bench;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.memwall.gguf.GgufFile;
import org.memwall.tokenizer.Tokenizer;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Encoding speed on English text (the repository's own documents, concatenated to ~1 MB) for a
 * vocabulary file; MB/s = 1 / (seconds per op) since each op encodes {@link #bytes} bytes.
 * Vocabulary: {@code -p vocab=PATH} (default: the conformance gpt-2 vocabulary).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector"})
public class TokenizerBenchmark {
    @Param("../shared/conformance/tokenizer/ggml-vocab-gpt-2.gguf")
    public String vocab;

    private Tokenizer tokenizer;
    private String text;
    /** UTF-8 bytes of {@link #text}; report MB/s = bytes / 1e6 / seconds per op. */
    public int bytes;

    @Setup
    public void setup() throws IOException {
        try (GgufFile file = GgufFile.open(Path.of(vocab))) {
            tokenizer = Tokenizer.from(file.metadata());
        }
        StringBuilder sb = new StringBuilder();
        for (String doc : new String[] {"README.md", "docs/architecture.md", "../shared/docs/design.md", "../shared/docs/architectures.md",
                "../shared/docs/reliability.md", "../shared/docs/style.md"}) {
            Path p = Path.of(doc);
            if (Files.exists(p)) {
                sb.append(Files.readString(p)).append('\n');
            }
        }
        String base = sb.isEmpty() ? "The quick brown fox jumps over the lazy dog. " : sb.toString();
        StringBuilder text = new StringBuilder();
        int n = 0;
        while (text.length() < 1_000_000) {
            text.append(base).append("\nSection ").append(n++).append('\n');
        }
        this.text = text.toString();
        this.bytes = this.text.getBytes(StandardCharsets.UTF_8).length;
        System.out.println("encoding " + bytes + " bytes per op");
    }

    @Benchmark
    public int encode() {
        return tokenizer.encode(text, false, false).length;
    }
}
