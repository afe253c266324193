package org.memwall.tensor;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

/**
 * A persistent pool of compute threads, one per core, that split a range of work items between
 * them. The calling thread takes a share itself; workers spin briefly on a generation counter and
 * then park, so a dispatch costs microseconds, not a fork/join task per operation.
 */
public final class Parallel implements AutoCloseable {
    /** A body over the half-open item range {@code [from, to)}, run by thread {@code thread}. */
    @FunctionalInterface
    public interface RangeTask {
        void run(int from, int to, int thread);
    }

    private static final int SPINS = 20_000;

    private final int threads;
    private final Thread[] workers;
    private volatile int generation;
    private volatile boolean closed;
    private volatile RangeTask task;
    private volatile int items;
    private final AtomicInteger pending = new AtomicInteger();
    private volatile Thread caller;
    private volatile Throwable failure;
    /** The next unclaimed item of {@link #forChunks}. */
    private final AtomicInteger nextChunk = new AtomicInteger();

    public Parallel(int threads) {
        if (threads < 1) {
            throw new IllegalArgumentException("threads must be >= 1, got " + threads);
        }
        this.threads = threads;
        this.workers = new Thread[threads - 1];
        for (int i = 0; i < workers.length; i++) {
            int index = i + 1;
            workers[i] = Thread.ofPlatform().daemon().name("memwall-compute-" + index).unstarted(() -> work(index));
            workers[i].start();
        }
    }

    /** A pool with one thread per physical core (hyper-threads share a core's vector units and gain nothing here). */
    public static Parallel perCore() {
        return new Parallel(physicalCores());
    }

    /**
     * Physical cores this process may use: the CPUs the JVM sees divided by the hardware threads per
     * core (from Linux's CPU topology; macOS's {@code hw.physicalcpu}); the JVM's count when unknown.
     */
    public static int physicalCores() {
        int logical = Runtime.getRuntime().availableProcessors();
        int threadsPerCore = 1;
        try {
            Path cpus = Path.of("/sys/devices/system/cpu");
            if (Files.isDirectory(cpus)) {
                Set<String> cores = new HashSet<>();
                int n = 0;
                try (DirectoryStream<Path> dirs = Files.newDirectoryStream(cpus, "cpu[0-9]*")) {
                    for (Path cpu : dirs) {
                        Path siblings = cpu.resolve("topology/thread_siblings_list");
                        if (Files.isReadable(siblings)) {
                            cores.add(Files.readString(siblings).strip());
                            n++;
                        }
                    }
                }
                threadsPerCore = cores.isEmpty() ? 1 : Math.max(1, n / cores.size());
            } else if (System.getProperty("os.name", "").startsWith("Mac")) {
                Process p = new ProcessBuilder("sysctl", "-n", "hw.physicalcpu", "hw.logicalcpu").redirectErrorStream(true).start();
                String[] v = new String(p.getInputStream().readAllBytes(), StandardCharsets.US_ASCII).trim().split("\\s+");
                if (p.waitFor() == 0 && v.length == 2) {
                    threadsPerCore = Math.max(1, Integer.parseInt(v[1]) / Integer.parseInt(v[0]));
                }
            }
        } catch (IOException | RuntimeException e) {
            threadsPerCore = 1;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return Math.max(1, logical / threadsPerCore);
    }

    public int threads() {
        return threads;
    }

    /**
     * Runs {@code body} over {@code [0, n)} split into {@link #threads()} contiguous ranges, and
     * returns when all are done. Not reentrant: one caller at a time.
     */
    public synchronized void forRange(int n, RangeTask body) {
        if (n <= 0) {
            return;
        }
        if (threads == 1 || n == 1) {
            body.run(0, n, 0);
            return;
        }
        task = body;
        items = n;
        failure = null;
        caller = Thread.currentThread();
        pending.set(workers.length);
        generation++;
        for (Thread w : workers) {
            LockSupport.unpark(w);
        }
        try {
            runShare(body, n, 0);
        } catch (Throwable t) {
            failure = t; // reported once the workers are done, so no worker still runs this task after we return
        }
        int spins = 0;
        while (pending.get() > 0) {
            if (++spins < SPINS) {
                Thread.onSpinWait();
            } else {
                LockSupport.park(this);
            }
        }
        task = null;
        Throwable f = failure;
        if (f != null) {
            if (f instanceof RuntimeException r) {
                throw r;
            }
            if (f instanceof Error e) {
                throw e;
            }
            throw new IllegalStateException(f);
        }
    }

    /**
     * Runs {@code body} over {@code [0, n)} in pieces of {@code grain} items that the threads claim one
     * after another until none is left, and returns when all are done: a thread that runs slower (or
     * is descheduled) takes fewer pieces, instead of the others waiting for its fixed share. Each
     * piece is contiguous, so a thread still streams long runs of memory.
     */
    public synchronized void forChunks(int n, int grain, RangeTask body) {
        if (grain < 1) {
            throw new IllegalArgumentException("grain must be >= 1, got " + grain);
        }
        RangeTask claim = (first, last, thread) -> {
            for (int from = nextChunk.getAndAdd(grain); from < n; from = nextChunk.getAndAdd(grain)) {
                body.run(from, Math.min(n, from + grain), thread);
            }
        };
        nextChunk.set(0);
        if (threads == 1 || n <= grain) {
            claim.run(0, 1, 0); // one thread claims every piece; no dispatch
        } else {
            forRange(threads, claim);
        }
    }

    private void runShare(RangeTask body, int n, int thread) {
        int from = (int) ((long) n * thread / threads);
        int to = (int) ((long) n * (thread + 1) / threads);
        if (from < to) {
            body.run(from, to, thread);
        }
    }

    private void work(int index) {
        int seen = 0;
        while (true) {
            int spins = 0;
            while (generation == seen && !closed) {
                if (++spins < SPINS) {
                    Thread.onSpinWait();
                } else {
                    LockSupport.park(this);
                }
            }
            if (closed) {
                return;
            }
            seen = generation;
            try {
                runShare(task, items, index);
            } catch (Throwable t) {
                failure = t;
            }
            if (pending.decrementAndGet() == 0) {
                LockSupport.unpark(caller);
            }
        }
    }

    @Override
    public void close() {
        closed = true;
        for (Thread w : workers) {
            LockSupport.unpark(w);
        }
    }
}
