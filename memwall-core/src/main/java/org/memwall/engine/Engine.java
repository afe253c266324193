package org.memwall.engine;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;
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
 * that {@link #submit} fails at once with {@link EngineBusyException}. KV memory is budgeted: a
 * sequence reserves the cache of all its positions (prompt + max tokens) when it starts, a sequence
 * that would take the running ones past {@code kvBudgetBytes} waits (first come, first served), and
 * one that could never fit is refused at {@link #submit}. A cache that still cannot be allocated
 * fails its own sequence, never the batch.
 *
 * <p>With {@link Settings#prefixCaching} a finished sequence's cache stays in a {@link PrefixCache}
 * (charged to the KV budget, evicted least recently used when admission needs the room), and a new
 * sequence starts from the longest cached prefix of its prompt.
 */
public final class Engine implements AutoCloseable {
    /**
     * Limits: running sequences, waiting sequences, prompt positions evaluated per step, and bytes of
     * KV cache the running sequences may reserve together ({@code Long.MAX_VALUE}: no limit).
     */
    public record Settings(int parallel, int maxQueue, int prefillBudget, long kvBudgetBytes, boolean prefixCaching) {
        public Settings {
            if (parallel < 1 || maxQueue < 0 || prefillBudget < 1 || kvBudgetBytes < 1) {
                throw new IllegalArgumentException("bad engine settings " + parallel + "/" + maxQueue + "/" + prefillBudget + "/" + kvBudgetBytes);
            }
        }

        public Settings(int parallel, int maxQueue, int prefillBudget, long kvBudgetBytes) {
            this(parallel, maxQueue, prefillBudget, kvBudgetBytes, true);
        }

        public Settings(int parallel, int maxQueue, int prefillBudget) {
            this(parallel, maxQueue, prefillBudget, Long.MAX_VALUE);
        }
    }

    /** Waits for the step loop after a drain's cancellations: one forward step, bounded. */
    private static final long STOP_MILLIS = 5000;
    /** Why a sequence ends when the engine stops before it is done. */
    public static final String SHUTTING_DOWN = "the server is shutting down";

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
    private final long kvBytesPerPosition;
    /** KV bytes reserved by running sequences (under {@link #lock}). */
    private long kvReserved;
    /** Caches of finished sequences, under {@link #lock}. */
    private final PrefixCache prefixes = new PrefixCache();
    private final List<Consumer<Sequence>> releaseListeners = new CopyOnWriteArrayList<>();

    public Engine(Model model, Settings settings) {
        this.model = model;
        this.settings = settings;
        this.vocab = model.weights().vocabularySize();
        this.kvBytesPerPosition = model.forwardPass().kvBytesPerPosition();
        this.loop = Thread.ofPlatform().name("memwall-engine").daemon().start(this::run);
    }

    public Model model() {
        return model;
    }

    public EngineMetrics metrics() {
        return metrics;
    }

    public Settings settings() {
        return settings;
    }

    /** KV cache bytes one position of one sequence takes (in the layers that keep every position; see {@link org.memwall.model.ForwardPass#kvBytes}). */
    public long kvBytesPerPosition() {
        return kvBytesPerPosition;
    }

    /** The most positions (prompt + generated) one sequence can have within the KV budget. */
    public int kvPositionLimit() {
        // kvBytes grows with the positions (sliding-window layers stop growing at their ring): the largest n that fits.
        int lo = 0;
        int hi = Integer.MAX_VALUE;
        while (lo < hi) {
            int mid = (int) (((long) lo + hi + 1) >>> 1);
            if (model.forwardPass().kvBytes(mid) <= settings.kvBudgetBytes()) {
                lo = mid;
            } else {
                hi = mid - 1;
            }
        }
        return lo;
    }

    /**
     * Queues a request. Fails at once when the prompt and {@code maxTokens} do not fit the context
     * or the KV budget (a {@link MemwallException} naming the numbers) or when the engine is full.
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
        if ((long) prompt.length + maxTokens > kvPositionLimit()) {
            throw new KvBudgetException(prompt.length, maxTokens, kvPositionLimit(), settings.kvBudgetBytes());
        }
        lock.lock();
        try {
            if (closed) {
                throw new EngineBusyException("the engine is shutting down");
            }
            long deadline = timeoutNanos > 0 ? System.nanoTime() + timeoutNanos : Long.MAX_VALUE;
            Sequence s = new Sequence(ids.incrementAndGet(), prompt.clone(), maxTokens, sampler, isEnd, deadline);
            waiting.add(s);
            admit();
            if (waiting.size() > settings.maxQueue() && waiting.peekLast() == s) {
                waiting.pollLast();
                metrics.rejected.incrementAndGet();
                throw new EngineBusyException(String.format(Locale.ROOT, "busy: %d requests running (%.1f of %.1f MiB of KV budget reserved)"
                        + " and %d queued", running.size(), kvReserved / 1048576.0, settings.kvBudgetBytes() / 1048576.0, waiting.size()));
            }
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

    /** Bytes of KV cache that running sequences have reserved (all their positions, allocated or not). */
    public long kvReservedBytes() {
        lock.lock();
        try {
            return kvReserved;
        } finally {
            lock.unlock();
        }
    }

    /** Bytes of KV cache the prefix cache holds (finished sequences' caches kept for reuse). */
    public long prefixCacheBytes() {
        lock.lock();
        try {
            return prefixes.bytes();
        } finally {
            lock.unlock();
        }
    }

    /** Prefixes (finished sequences' caches) the prefix cache holds. */
    public int prefixCacheEntries() {
        lock.lock();
        try {
            return prefixes.entries();
        } finally {
            lock.unlock();
        }
    }

    /**
     * Calls {@code listener} each time a sequence leaves the batch, its KV cache freed (or handed to
     * the prefix cache), on the thread that removed it, usually the step loop: it must return quickly.
     */
    public void onRelease(Consumer<Sequence> listener) {
        releaseListeners.add(listener);
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
                admit();
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

    /** Moves waiting sequences into the batch while slots and KV budget allow, in arrival order. Under {@link #lock}. */
    private void admit() {
        while (running.size() < settings.parallel() && !waiting.isEmpty()) {
            Sequence s = waiting.peek();
            if (s.cancelled) {
                waiting.poll();
                s.events.add(new Sequence.Event(-1, Generator.Stop.CALLER, null));
                continue;
            }
            long need = model.forwardPass().kvBytes(s.prompt.length + s.maxTokens);
            if (kvReserved + need > settings.kvBudgetBytes()) {
                return; // the head waits for running sequences to free their reservations
            }
            // Look the prefix up first, so that making room evicts it last.
            PrefixCache.Match match = settings.prefixCaching() ? prefixes.find(s.prompt) : null;
            while (kvReserved + prefixes.bytes() + need > settings.kvBudgetBytes() && prefixes.evictOne()) {
                metrics.prefixEvictions.incrementAndGet();
            }
            waiting.poll();
            s.kvReserved = need;
            kvReserved += need;
            try {
                s.cache = model.newCache(s.prompt.length + s.maxTokens);
                if (settings.prefixCaching()) {
                    s.evaluated = s.written = prefixes.restore(match, s.cache);
                    metrics.recordPrefixLookup(s.evaluated);
                }
            } catch (OutOfMemoryError | RuntimeException e) {
                if (s.cache != null) {
                    s.cache.close();
                    s.cache = null;
                }
                kvReserved -= need;
                s.events.add(new Sequence.Event(-1, null, "could not allocate the KV cache: " + e.getMessage()));
                continue;
            }
            running.add(s);
        }
    }

    /**
     * Allocates the cache a sequence needs up to {@code position} before the step, so that a failed
     * allocation (heap or device memory exhausted despite the budget) ends that sequence alone.
     */
    private boolean reserve(Sequence s, int position) {
        try {
            s.cache.reserve(position);
            return true;
        } catch (OutOfMemoryError | MemwallException e) {
            finish(s, null, "out of memory for the KV cache at position " + position + ": " + e.getMessage());
            return false;
        }
    }

    private void step(List<Sequence> batch) {
        long now = System.nanoTime();
        List<Sequence> active = new ArrayList<>();
        for (Sequence s : batch) {
            if (s.cancelled) {
                finish(s, Generator.Stop.CALLER, s.cancelReason);
            } else if (now > s.deadlineNanos) {
                finish(s, null, "timeout");
            } else if (closed && s.prefilling()) {
                finish(s, Generator.Stop.CALLER, SHUTTING_DOWN);
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
            int last = s.prefilling() ? s.evaluated + take[i] - 1 : s.prompt.length + s.generated - 1;
            if (take[i] > 0 && !reserve(s, last)) {
                take[i] = 0;
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
            s.written += take[i];
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
            if (s.generated == s.output.length) {
                s.output = java.util.Arrays.copyOf(s.output, s.generated * 2);
            }
            s.output[s.generated++] = token;
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
                if (settings.prefixCaching() && !closed) {
                    prefixes.offer(s.evaluatedTokens(), s.cache);
                } else {
                    s.cache.close();
                }
                s.cache = null;
            }
            kvReserved -= s.kvReserved;
            s.kvReserved = 0;
            work.signal(); // freed budget may admit a waiting sequence
        } finally {
            lock.unlock();
        }
        for (Consumer<Sequence> listener : releaseListeners) {
            listener.accept(s);
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
                s.events.add(new Sequence.Event(-1, Generator.Stop.CALLER, SHUTTING_DOWN));
            }
            waiting.clear();
            prefixes.clear();
            work.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /**
     * Waits up to {@code millis} (0: not at all) for running sequences to drain after {@link #close},
     * then cancels the rest and waits at most one bounded step for them to leave.
     */
    public void awaitDrained(long millis) throws InterruptedException {
        if (millis > 0) {
            loop.join(millis);
        }
        if (loop.isAlive()) {
            lock.lock();
            try {
                running.forEach(s -> s.cancel(SHUTTING_DOWN));
            } finally {
                lock.unlock();
            }
            loop.join(STOP_MILLIS);
        }
    }
}
