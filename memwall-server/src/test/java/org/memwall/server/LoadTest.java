package org.memwall.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.sun.management.UnixOperatingSystemMXBean;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * Concurrent streaming clients over loopback for a while: no failed request, every stream
 * well-formed, heap after GC and the process's resident memory flat after warm-up (sampled every
 * 10 s, or five times in a short run), running sequences and KV cache back to idle at the end.
 * By default 32 clients for 10 s; the run is {@code -Dmemwall.loadtest.clients=64
 * -Dmemwall.loadtest.seconds=600} (see docs/server.md).
 */
class LoadTest {
    static final int CLIENTS = Integer.getInteger("memwall.loadtest.clients", 32);
    static final long SECONDS = Long.getLong("memwall.loadtest.seconds", 10);
    /** Growth after warm-up (the first fifth of the run) that counts as a leak. */
    static final long FLAT_BYTES = 64L << 20;

    /** One sample of the server process (the test runs it in-process). */
    record Sample(double seconds, long requests, long heapAfterGc, long rss, int threads, long fds, long running, long kvBytes) {
        @Override
        public String toString() {
            return String.format(Locale.ROOT, "%6.0f s %7d requests  heap %4d MB  RSS %4d MB  threads %3d  fds %4d  running %2d  KV %6d KB",
                    seconds, requests, heapAfterGc >> 20, rss >> 20, threads, fds, running, kvBytes >> 10);
        }
    }

    @Test
    void concurrentStreamingClientsLeaveNoErrorsAndFlatMemory() throws Exception {
        try (ServerFixture f = new ServerFixture(16, CLIENTS, null, 0)) {
            f.post("/v1/completions", "{\"prompt\": \"I dreamed\", \"max_tokens\": 8}"); // warm-up
            AtomicLong ok = new AtomicLong();
            AtomicLong tokens = new AtomicLong();
            ConcurrentLinkedQueue<String> failures = new ConcurrentLinkedQueue<>();
            long start = System.nanoTime();
            long end = start + SECONDS * 1_000_000_000L;
            long sampleNanos = Math.min(10, Math.max(1, SECONDS / 5)) * 1_000_000_000L;
            List<Sample> samples = new ArrayList<>();
            String[] prompts = {"I dreamed", "The stars", "A quiet hum", "Light", "In the garden"};
            try (ExecutorService clients = Executors.newVirtualThreadPerTaskExecutor()) {
                List<Future<?>> futures = new ArrayList<>();
                for (int c = 0; c < CLIENTS; c++) {
                    int client = c;
                    futures.add(clients.submit(() -> {
                        int i = 0;
                        while (System.nanoTime() < end) {
                            String body = "{\"messages\": [{\"role\": \"user\", \"content\": \"" + prompts[(client + i++) % prompts.length]
                                    + "\"}], \"max_tokens\": " + (16 + client % 24) + ", \"temperature\": 0.7, \"seed\": " + client
                                    + ", \"stream\": true, \"stream_options\": {\"include_usage\": true}}";
                            try {
                                HttpResponse<String> r = f.post("/v1/chat/completions", body);
                                String problem = wellFormed(r);
                                if (problem != null) {
                                    failures.add(problem);
                                } else {
                                    ok.incrementAndGet();
                                    JsonNode usage = null;
                                    for (String e : r.body().split("\n\n")) {
                                        if (e.contains("\"usage\"")) {
                                            usage = ServerFixture.JSON.readTree(e.substring(6)).get("usage");
                                        }
                                    }
                                    tokens.addAndGet(usage.get("completion_tokens").asLong());
                                }
                            } catch (Exception e) {
                                failures.add(e.toString());
                            }
                        }
                        return null;
                    }));
                }
                for (long next = start + sampleNanos; next <= end; next += sampleNanos) {
                    Thread.sleep(Math.max(0, (next - System.nanoTime()) / 1_000_000));
                    Sample s = sample(f, (System.nanoTime() - start) / 1e9, ok.get());
                    samples.add(s);
                    System.out.println("load test: " + s);
                }
                for (Future<?> fu : futures) {
                    fu.get();
                }
            }
            double seconds = (System.nanoTime() - start) / 1e9;
            List<Sample> afterWarmUp = samples.subList(Math.max(1, samples.size() / 5), samples.size());
            Sample first = afterWarmUp.getFirst();
            Sample last = afterWarmUp.getLast();
            long maxHeap = afterWarmUp.stream().mapToLong(Sample::heapAfterGc).max().orElseThrow();
            long maxRss = afterWarmUp.stream().mapToLong(Sample::rss).max().orElseThrow();
            System.out.printf(Locale.ROOT, "load test: %d clients, %d requests in %.0f s (%.1f req/s), %d tokens (%.1f tokens/s), %d failures;"
                            + " after warm-up (from %.0f s) heap after GC first/last/max %d/%d/%d MB, RSS %d/%d/%d MB, threads %d/%d, fds %d/%d;"
                            + " load average %s%n",
                    CLIENTS, ok.get(), seconds, ok.get() / seconds, tokens.get(), tokens.get() / seconds, failures.size(), first.seconds(),
                    first.heapAfterGc() >> 20, last.heapAfterGc() >> 20, maxHeap >> 20, first.rss() >> 20, last.rss() >> 20, maxRss >> 20,
                    first.threads(), last.threads(), first.fds(), last.fds(), loadAverage());
            assertThat(failures).isEmpty();
            assertThat(ok.get()).isGreaterThan(CLIENTS);
            assertThat(maxHeap).as("heap after GC after warm-up").isLessThan(first.heapAfterGc() + FLAT_BYTES);
            assertThat(last.rss()).as("resident memory after warm-up").isLessThan(first.rss() + FLAT_BYTES);
            assertThat(f.metric("memwall_running_sequences")).isZero();
            assertThat(f.metric("memwall_kv_cache_bytes")).isZero();
            assertThat(f.metric("memwall_queue_depth")).isZero();
        }
    }

    static Sample sample(ServerFixture f, double seconds, long requests) throws Exception {
        UnixOperatingSystemMXBean os = (UnixOperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
        return new Sample(seconds, requests, usedHeapAfterGc(), residentBytes(), ManagementFactory.getThreadMXBean().getThreadCount(),
                os.getOpenFileDescriptorCount(), f.server.engine().runningCount(), f.server.engine().kvBytes());
    }

    /** This process's resident set size (VmRSS in /proc/self/status); 0 where there is no /proc. */
    static long residentBytes() throws IOException {
        Path status = Path.of("/proc/self/status");
        if (!Files.exists(status)) {
            return 0;
        }
        for (String line : Files.readAllLines(status)) {
            if (line.startsWith("VmRSS:")) {
                return Long.parseLong(line.substring(6).replace("kB", "").strip()) * 1024;
            }
        }
        return 0;
    }

    static String loadAverage() throws IOException {
        Path p = Path.of("/proc/loadavg");
        return Files.exists(p) ? String.join(" ", List.of(Files.readString(p).split(" ")).subList(0, 3))
                : String.format(Locale.ROOT, "%.2f", ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage());
    }

    static String wellFormed(HttpResponse<String> r) throws Exception {
        if (r.statusCode() != 200) {
            return "status " + r.statusCode() + ": " + r.body();
        }
        String[] events = r.body().split("\n\n");
        if (!events[events.length - 1].equals("data: [DONE]")) {
            return "stream does not end with [DONE]";
        }
        boolean finished = false;
        for (int i = 0; i < events.length - 1; i++) {
            if (events[i].startsWith(":")) {
                continue; // an SSE comment: the server checking a waiting stream's connection
            }
            if (!events[i].startsWith("data: ")) {
                return "bad event " + events[i];
            }
            JsonNode chunk = ServerFixture.JSON.readTree(events[i].substring(6));
            JsonNode choices = chunk.get("choices");
            if (choices.size() > 0 && !choices.get(0).get("finish_reason").isNull()) {
                finished = true;
            }
        }
        return finished ? null : "no finish_reason";
    }

    static long usedHeapAfterGc() throws InterruptedException {
        for (int i = 0; i < 3; i++) {
            System.gc();
            Thread.sleep(100);
        }
        return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
    }
}
