package org.memwall.bench;

import java.io.IOException;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.memwall.gguf.GgufFile;
import org.memwall.grammar.Grammar;
import org.memwall.grammar.GrammarConstraint;
import org.memwall.tokenizer.Tokenizer;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.BenchmarkParams;

/**
 * What constrained decoding adds to one decode step: masking a whole vocabulary's logits for the
 * grammar's state. {@code revisit}: a state seen before (inside a JSON string, most steps), its mask
 * cached, so the cost is applying it. {@code firstVisit}: a state never seen, the shared masks and
 * matchers forgotten (no transitions known yet), so a full walk of the vocabulary trie: the worst
 * step, which only the first request with a schema pays. {@code secondRequest}: a new request with
 * the same schema reaching the state (masks are shared across requests). Vocabularies:
 * Llama 3 (128,256 tokens), Qwen3 (151,669) and gpt-oss (201,088) from the conformance files.
 * States: {@code string} (after <code>{"name": "ab</code>), {@code key} (after <code>{</code>),
 * {@code number} (after <code>{"n": 12</code>), under the schema in {@link #SCHEMA}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector"})
public class GrammarMaskBenchmark {
    static final String SCHEMA = """
            {"type": "object", "properties": {"name": {"type": "string"}, "n": {"type": "integer"},
             "tags": {"type": "array", "items": {"type": "string"}}}, "required": ["name", "n"]}""";
    /** Text before the masked step for each state (the key schema accepts after "{"). */
    private static final java.util.Map<String, String> PREFIX = java.util.Map.of(
            "string", "{\"name\": \"ab", "key", "{", "number", "{\"name\": \"x\", \"n\": 12");

    @Param({"../shared/conformance/tokenizer/ggml-vocab-llama-3.gguf", "../shared/conformance/tokenizer/ggml-vocab-qwen3.gguf",
            "../shared/conformance/tokenizer/ggml-vocab-gpt-oss.gguf"})
    public String vocab;

    @Param({"string", "key", "number"})
    public String state;

    private Tokenizer tokenizer;
    private Grammar grammar;
    private int[] prefix;
    private float[] logits;
    private float[] work;
    private GrammarConstraint warm;

    @Setup
    public void setup() throws IOException {
        try (GgufFile file = GgufFile.open(Path.of(vocab))) {
            tokenizer = Tokenizer.from(file.metadata());
        }
        grammar = Grammar.fromJsonSchema(org.memwall.chat.Json.parse(SCHEMA));
        prefix = tokenizer.encode(PREFIX.get(state), false, false);
        logits = new float[tokenizer.vocabulary().size()];
        java.util.SplittableRandom r = new java.util.SplittableRandom(1);
        for (int i = 0; i < logits.length; i++) {
            logits[i] = (float) r.nextGaussian();
        }
        work = new float[logits.length];
        warm = constraint();
        warm.mask(work, work.length);
        int allowed = 0;
        for (float v : work) {
            allowed += v == Float.NEGATIVE_INFINITY ? 0 : 1;
        }
        System.out.println(vocab + " state " + state + ": " + allowed + " of " + work.length + " tokens allowed");
    }

    private GrammarConstraint constraint() {
        GrammarConstraint c = new GrammarConstraint(grammar, tokenizer, 1 << 20);
        for (int t : prefix) {
            c.accept(t);
        }
        return c;
    }

    private GrammarConstraint fresh;
    private GrammarConstraint second;

    @Setup(Level.Invocation)
    public void freshMatcher(BenchmarkParams params) {
        if (params.getBenchmark().endsWith("firstVisit")) {
            GrammarConstraint.forgetSharedMasks();
            fresh = constraint();
        } else if (params.getBenchmark().endsWith("secondRequest")) {
            constraint().mask(work, work.length); // the first request with the schema
            second = constraint();
        }
        System.arraycopy(logits, 0, work, 0, logits.length);
    }

    @Benchmark
    public float revisit() {
        warm.mask(work, work.length);
        return work[work.length - 1];
    }

    @Benchmark
    public float firstVisit() {
        fresh.mask(work, work.length);
        return work[work.length - 1];
    }

    @Benchmark
    public float secondRequest() {
        second.mask(work, work.length);
        return work[work.length - 1];
    }

    /** The floor any sampler pays: one pass over the logits. */
    @Benchmark
    public float copyLogits() {
        System.arraycopy(logits, 0, work, 0, logits.length);
        return work[0];
    }

}
