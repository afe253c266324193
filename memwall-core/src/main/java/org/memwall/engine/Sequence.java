package org.memwall.engine;

import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.function.IntPredicate;
import java.util.function.ToIntFunction;
import org.memwall.model.KvCache;

/**
 * One request inside the {@link Engine}: its prompt, its KV cache while it runs, and a queue of
 * events (tokens, then one finish) that the caller drains on its own thread, so a slow reader never
 * stalls the step loop.
 */
public final class Sequence {
    /** An event for the caller: a token, or the end with its reason (token is then -1). */
    public record Event(int token, Generator.Stop stop, String error) {
        public boolean isEnd() {
            return stop != null || error != null;
        }
    }

    final long id;
    final int[] prompt;
    final int maxTokens;
    final ToIntFunction<float[]> sampler;
    final IntPredicate isEnd;
    final long deadlineNanos;
    final BlockingQueue<Event> events = new LinkedBlockingQueue<>();
    KvCache cache;
    /** Prompt positions already evaluated. */
    int evaluated;
    /** Token to evaluate next while decoding. */
    int pending = -1;
    int generated;
    /** The generated tokens ({@link #generated} of them). */
    int[] output = new int[16];
    /** Positions whose keys and values are in its cache (steps that completed). */
    int written;
    volatile boolean cancelled;
    /** Why the engine cancelled it (null: the caller did). */
    volatile String cancelReason;
    /** KV bytes reserved for it while it runs. */
    long kvReserved;
    final long submittedNanos = System.nanoTime();
    long firstTokenNanos;

    Sequence(long id, int[] prompt, int maxTokens, ToIntFunction<float[]> sampler, IntPredicate isEnd, long deadlineNanos) {
        this.id = id;
        this.prompt = prompt;
        this.maxTokens = maxTokens;
        this.sampler = sampler;
        this.isEnd = isEnd;
        this.deadlineNanos = deadlineNanos;
    }

    public long id() {
        return id;
    }

    public int promptTokens() {
        return prompt.length;
    }

    /** Generated tokens so far. */
    public int generated() {
        return generated;
    }

    /** The tokens whose keys and values its cache holds: the evaluated prompt, then the generated tokens fed back. */
    int[] evaluatedTokens() {
        int[] t = java.util.Arrays.copyOf(prompt, written);
        if (written > prompt.length) {
            System.arraycopy(output, 0, t, prompt.length, written - prompt.length);
        }
        return t;
    }

    /** Blocks until the next event. */
    public Event next() throws InterruptedException {
        return events.take();
    }

    /** The next event, or null after {@code millis} without one. */
    public Event poll(long millis) throws InterruptedException {
        return events.poll(millis, java.util.concurrent.TimeUnit.MILLISECONDS);
    }

    /** Asks the engine to stop this sequence; it leaves the batch and frees its cache within a step. */
    public void cancel() {
        cancelled = true;
    }

    void cancel(String reason) {
        cancelReason = reason;
        cancelled = true;
    }

    boolean prefilling() {
        return evaluated < prompt.length;
    }
}
