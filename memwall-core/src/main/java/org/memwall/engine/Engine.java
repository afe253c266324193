package org.memwall.engine;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.IntPredicate;
import java.util.function.ToIntFunction;
import org.memwall.MemwallException;
import org.memwall.model.KvCache;
import org.memwall.model.Model;
import org.memwall.sample.Sampler;

/**
 * Continuous batching: every running sequence advances in the same forward step — prompt chunks of
 * new sequences and one token of each decoding sequence in one batch — so each weight is read once
 * per step for all of them. Sequences join between steps and leave as soon as they finish; each
 * holds a KV cache that grows by blocks and is dropped when it ends.
 *
 * <p>Admission is bounded: at most {@code parallel} sequences run and {@code maxQueue} wait; beyond
 * that {@link #submit} fails at once with {@link EngineBusyException}.
 */
public final class Engine implements AutoCloseable {
    /** Limits: running sequences, waiting sequences, and prompt positions evaluated per step. */
    public record Settings(int parallel, int maxQueue, int prefillBudget) {
        public Settings {
            if (parallel < 1 || maxQueue < 0 || prefillBudget < 1) {
                throw new IllegalArgumentException("bad engine settings " + parallel + "/" + maxQueue + "/" + prefillBudget);
            }
        }
    }

    private final Model model;
    private final Settings settings;
    private final int vocab;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition work = lock.newCondition();
    private final ArrayDeque<Sequence> waiting = new ArrayDeque<>();
    private final List<Sequence> running = new ArrayList<>();
    private final AtomicLong ids = new AtomicLong();
    private final Thread loop;
    private volatile boolean closed;
    private final EngineMetrics metrics = new EngineMetrics();

    public Engine(Model model, Settings settings) {
        this.model = model;
        this.settings = settings;
        this.vocab = model.weights().vocabularySize();
        this.loop = Thread.ofPlatform().name("memwall-engine").daemon().start(this::run);
    }

    public Model model() {
        return model;
    }

    public EngineMetrics metrics() {
        return metrics;
    }

    /**
     * Queues a request. Fails at once when the prompt and {@code maxTokens} do not fit the context
     * (a {@link MemwallException} naming both numbers) or when the engine is full.
     */
    public Sequence submit(int[] prompt, int maxTokens, ToIntFunction<float[]> sampler, IntPredicate isEnd, long timeoutNanos) {
        int ctx = model.config().contextLength();
        if (prompt.length == 0) {
            throw new MemwallException("the prompt is empty");
        }
        if (maxTokens < 1) {
            throw new MemwallException("max_tokens must be at least 1, got " + maxTokens);
        }
        if ((long) prompt.length + maxTokens > ctx) {
            throw new MemwallException("the prompt (" + prompt.length + " tokens) plus max_tokens (" + maxTokens
                    + ") exceeds the context length of " + ctx + " tokens");
        }
        lock.lock();
        try {
            if (closed) {
                throw new EngineBusyException("the engine is shutting down");
            }
            if (running.size() + waiting.size() >= settings.parallel() + settings.maxQueue()) {
                metrics.rejected.incrementAndGet();
                throw new EngineBusyException("busy: " + running.size() + " requests running and " + waiting.size() + " queued");
            }
            long deadline = timeoutNanos > 0 ? System.nanoTime() + timeoutNanos : Long.MAX_VALUE;
            Sequence s = new Sequence(ids.incrementAndGet(), prompt.clone(), maxTokens, sampler, isEnd, deadline);
            waiting.add(s);
            work.signal();
            return s;
        } finally {
            lock.unlock();
        }
    }

    public int runningCount() {
        lock.lock();
        try {
            return running.size();
        } finally {
            lock.unlock();
        }
    }

    public int queuedCount() {
        lock.lock();
        try {
            return waiting.size();
        } finally {
            lock.unlock();
        }
    }

    /** Bytes of KV cache held by running sequences. */
    public long kvBytes() {
        lock.lock();
        try {
            long b = 0;
            for (Sequence s : running) {
                b += s.cache == null ? 0 : s.cache.allocatedBytes();
            }
            return b;
        } finally {
            lock.unlock();
        }
    }

    private void run() {
        while (true) {
            List<Sequence> batch;
            lock.lock();
            try {
                while (!closed && running.isEmpty() && waiting.isEmpty()) {
                    work.awaitUninterruptibly();
                }
                if (closed && running.isEmpty() && waiting.isEmpty()) {
                    return;
                }
                while (running.size() < settings.parallel() && !waiting.isEmpty()) {
                    Sequence s = waiting.poll();
                    s.cache = model.newCache(s.prompt.length + s.maxTokens);
                    running.add(s);
                }
                batch = new ArrayList<>(running);
            } finally {
                lock.unlock();
            }
            try {
                step(batch);
            } catch (RuntimeException | Error e) {
                for (Sequence s : batch) {
                    finish(s, null, "internal error: " + e);
                }
            }
        }
    }

    private void step(List<Sequence> batch) {
        long now = System.nanoTime();
        List<Sequence> active = new ArrayList<>();
        for (Sequence s : batch) {
            if (s.cancelled) {
                finish(s, Generator.Stop.CALLER, null);
            } else if (now > s.deadlineNanos) {
                finish(s, null, "timeout");
            } else if (closed && s.prefilling()) {
                finish(s, Generator.Stop.CALLER, null);
            } else {
                active.add(s);
            }
        }
        if (active.isEmpty()) {
            return;
        }
        // Decoding sequences contribute one token each; prompts fill the rest of the step's budget.
        int decoders = 0;
        for (Sequence s : active) {
            if (!s.prefilling()) {
                decoders++;
            }
        }
        int budget = Math.max(0, settings.prefillBudget() - decoders);
        int[] take = new int[active.size()];
        int total = 0;
        for (int i = 0; i < active.size(); i++) {
            Sequence s = active.get(i);
            if (s.prefilling()) {
                take[i] = Math.min(budget, s.prompt.length - s.evaluated);
                budget -= take[i];
            } else {
                take[i] = 1;
            }
            total += take[i];
        }
        if (total == 0) {
            return;
        }
        int[] tokens = new int[total];
        int[] positions = new int[total];
        KvCache[] caches = new KvCache[total];
        boolean[] want = new boolean[total];
        int k = 0;
        for (int i = 0; i < active.size(); i++) {
            Sequence s = active.get(i);
            if (s.prefilling()) {
                for (int j = 0; j < take[i]; j++) {
                    tokens[k] = s.prompt[s.evaluated + j];
                    positions[k] = s.evaluated + j;
                    caches[k] = s.cache;
                    want[k] = s.evaluated + j == s.prompt.length - 1;
                    k++;
                }
            } else if (take[i] == 1) {
                tokens[k] = s.pending;
                positions[k] = s.prompt.length + s.generated - 1;
                caches[k] = s.cache;
                want[k] = true;
                k++;
            }
        }
        // When every sequence samples the plain argmax, the forward pass picks the tokens (on a GPU:
        // only ids come back); otherwise it returns the logits rows.
        boolean argmax = active.stream().allMatch(s -> s.sampler instanceof Sampler sm && sm.argmaxOnly());
        long t0 = System.nanoTime();
        int[] picked = argmax ? model.forwardPass().argmax(tokens, positions, caches, want) : null;
        float[] logits = argmax ? null : model.forwardPass().forward(tokens, positions, caches, want);
        long t1 = System.nanoTime();
        metrics.recordStep(total, decoders, t1 - t0);
        float[] row = new float[vocab];
        int r = 0;
        for (int i = 0; i < active.size(); i++) {
            Sequence s = active.get(i);
            boolean sample;
            if (s.prefilling()) {
                s.evaluated += take[i];
                metrics.promptTokens.addAndGet(take[i]);
                sample = !s.prefilling() && take[i] > 0;
            } else {
                sample = take[i] == 1;
            }
            if (!sample) {
                continue;
            }
            int token;
            if (picked != null) {
                token = picked[r++];
                ((Sampler) s.sampler).accept(token);
            } else {
                System.arraycopy(logits, r++ * vocab, row, 0, vocab);
                token = s.sampler.applyAsInt(row);
            }
            if (s.isEnd.test(token)) {
                finish(s, Generator.Stop.END_TOKEN, null);
                continue;
            }
            if (s.generated == 0) {
                s.firstTokenNanos = System.nanoTime();
            }
            s.generated++;
            metrics.generatedTokens.incrementAndGet();
            s.events.add(new Sequence.Event(token, null, null));
            if (s.generated >= s.maxTokens) {
                finish(s, Generator.Stop.LENGTH, null);
            } else {
                s.pending = token;
            }
        }
    }

    private void finish(Sequence s, Generator.Stop stop, String error) {
        lock.lock();
        try {
            if (!running.remove(s)) {
                return;
            }
            if (s.cache != null) {
                s.cache.close();
                s.cache = null;
            }
        } finally {
            lock.unlock();
        }
        s.events.add(new Sequence.Event(-1, stop, error));
    }

    /** Stops admitting, lets running sequences finish (decoding ones) or cancels them, then stops. */
    @Override
    public void close() {
        lock.lock();
        try {
            closed = true;
            for (Sequence s : waiting) {
                s.events.add(new Sequence.Event(-1, Generator.Stop.CALLER, "the server is shutting down"));
            }
            waiting.clear();
            work.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /** Waits up to {@code millis} for running sequences to drain after {@link #close}; cancels the rest. */
    public void awaitDrained(long millis) throws InterruptedException {
        loop.join(millis);
        if (loop.isAlive()) {
            lock.lock();
            try {
                running.forEach(Sequence::cancel);
            } finally {
                lock.unlock();
            }
            loop.join(5000);
        }
    }
}
