package org.memwall.engine;

import java.util.function.IntPredicate;
import java.util.function.ToIntFunction;
import org.memwall.MemwallException;
import org.memwall.model.KvCache;
import org.memwall.model.Model;
import org.memwall.sample.Sampler;

/**
 * Generation for one sequence (a CLI run or an interactive chat): the prompt is evaluated in
 * batches (chunks of at most {@link #PREFILL_CHUNK} positions), then one token at a time, each
 * chosen from the last logits by a sampling function, until a stop token, the token limit or the
 * context end. The KV cache persists between calls, so a conversation re-evaluates only what is new.
 */
public final class Generator {
    /** Largest prompt batch evaluated in one forward (bounds the activation memory). */
    public static final int PREFILL_CHUNK = 512;

    /** Why generation ended. */
    public enum Stop { END_TOKEN, LENGTH, CONTEXT, CALLER }

    /** What happened: generated tokens, prompt tokens evaluated (not reused), phase times and why it stopped. */
    public record Result(int[] tokens, int promptTokens, long prefillNanos, long decodeNanos, Stop stop) {
        public double prefillTokensPerSecond() {
            return prefillNanos == 0 ? 0 : promptTokens * 1e9 / prefillNanos;
        }

        /** Decode speed over the tokens after the first (whose logits came from the prefill). */
        public double decodeTokensPerSecond() {
            return decodeNanos == 0 || tokens.length < 2 ? 0 : (tokens.length - 1) * 1e9 / decodeNanos;
        }
    }

    /** Receives each generated token; returns false to stop generation. */
    @FunctionalInterface
    public interface TokenSink {
        boolean accept(int token);
    }

    private final Model model;
    private final KvCache cache;
    /** Tokens whose keys and values are in {@link #cache}, in position order. */
    private int[] cached = new int[0];

    /** A generator with its own cache for up to {@code capacity} positions (≤ 0: the model's context). */
    public Generator(Model model, int capacity) {
        this.model = model;
        this.cache = model.newCache(capacity);
    }

    /** A generator with a cache of the model's full context, allocated as it fills. */
    public Generator(Model model) {
        this(model, 0);
    }

    /**
     * Evaluates {@code prompt} and generates up to {@code maxTokens} tokens chosen by
     * {@code sampler} from each logits row; {@code isEnd} tokens stop generation (and are not
     * passed to {@code sink}). Positions this generator already evaluated for the same leading
     * tokens are reused, so a conversation only evaluates what each turn adds.
     */
    public Result generate(int[] prompt, int maxTokens, ToIntFunction<float[]> sampler, IntPredicate isEnd, TokenSink sink) {
        int ctx = cache.capacity();
        if (prompt.length == 0) {
            throw new MemwallException("the prompt is empty");
        }
        if (prompt.length >= ctx) {
            throw new MemwallException("the prompt has " + prompt.length + " tokens, the context is " + ctx);
        }
        // Reuse the longest common prefix, but always evaluate at least one token to get logits.
        int reuse = 0;
        int limit = Math.min(cached.length, prompt.length - 1);
        while (reuse < limit && cached[reuse] == prompt[reuse]) {
            reuse++;
        }
        if (!cache.canResumeAt(reuse)) {
            reuse = 0; // a sliding-window ring no longer holds the window before it
        }
        long t0 = System.nanoTime();
        float[] logits = prefill(prompt, reuse);
        long t1 = System.nanoTime();
        int room = ctx - prompt.length;
        int[] out = new int[Math.max(0, Math.min(maxTokens, room))];
        int[] evaluated = java.util.Arrays.copyOf(prompt, prompt.length + out.length);
        int n = 0;
        int position = prompt.length;
        Stop stop = Stop.LENGTH;
        // Plain greedy picks the token inside the forward pass (on a GPU: ids come back, not logits).
        Sampler argmax = sampler instanceof Sampler sm && sm.argmaxOnly() ? sm : null;
        int chosen = -1;
        while (n < maxTokens) {
            int token;
            if (chosen >= 0) {
                token = chosen;
                argmax.accept(token);
            } else {
                token = sampler.applyAsInt(logits);
            }
            if (isEnd.test(token)) {
                stop = Stop.END_TOKEN;
                break;
            }
            if (n == out.length) {
                stop = Stop.CONTEXT;
                break;
            }
            out[n++] = token;
            if (!sink.accept(token)) {
                stop = Stop.CALLER;
                break;
            }
            if (n == maxTokens) {
                break;
            }
            if (position >= ctx) {
                stop = Stop.CONTEXT;
                break;
            }
            int[] tok = {token};
            int[] pos = {position};
            KvCache[] caches = {cache};
            boolean[] want = {true};
            if (argmax != null) {
                chosen = model.forwardPass().argmax(tok, pos, caches, want)[0];
            } else {
                logits = model.forwardPass().forward(tok, pos, caches, want);
            }
            evaluated[position++] = token;
        }
        cached = java.util.Arrays.copyOf(evaluated, position);
        long t2 = System.nanoTime();
        return new Result(java.util.Arrays.copyOf(out, n), prompt.length - reuse, t1 - t0, t2 - t1, stop);
    }

    /** Evaluates {@code prompt[from..]} in chunks and returns the last position's logits. */
    private float[] prefill(int[] prompt, int from) {
        float[] logits = null;
        for (int start = from; start < prompt.length; start += PREFILL_CHUNK) {
            int end = Math.min(prompt.length, start + PREFILL_CHUNK);
            logits = model.forwardPass().forwardSequence(java.util.Arrays.copyOfRange(prompt, start, end), start, cache, false);
        }
        return logits;
    }
}
