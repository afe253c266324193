package org.memwall.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.lang.management.ManagementFactory;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * 32 concurrent streaming clients for 60 s over loopback: no failed request, every stream
 * well-formed, heap after GC flat, running sequences and KV cache back to idle at the end.
 */
class LoadTest {
    static final long SECONDS = Long.getLong("memwall.loadtest.seconds", 60);

    @Test
    void thirtyTwoStreamingClientsForAMinute() throws Exception {
        try (ServerFixture f = new ServerFixture(16, 32, null, 0)) {
            f.post("/v1/completions", "{\"prompt\": \"I dreamed\", \"max_tokens\": 8}"); // warm-up
            long heapBefore = usedHeapAfterGc();
            AtomicLong ok = new AtomicLong();
            AtomicLong tokens = new AtomicLong();
            ConcurrentLinkedQueue<String> failures = new ConcurrentLinkedQueue<>();
            long end = System.nanoTime() + SECONDS * 1_000_000_000L;
            String[] prompts = {"I dreamed", "The stars", "A quiet hum", "Light", "In the garden"};
            try (ExecutorService clients = Executors.newVirtualThreadPerTaskExecutor()) {
                List<Future<?>> futures = new ArrayList<>();
                for (int c = 0; c < 32; c++) {
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
                for (Future<?> fu : futures) {
                    fu.get();
                }
            }
            long heapAfter = usedHeapAfterGc();
            System.out.printf("load test: %d requests in %d s (%.1f req/s), %d tokens (%.1f tokens/s), 0 failures expected, got %d; heap after GC %d -> %d MB%n",
                    ok.get(), SECONDS, ok.get() / (double) SECONDS, tokens.get(), tokens.get() / (double) SECONDS, failures.size(),
                    heapBefore >> 20, heapAfter >> 20);
            assertThat(failures).isEmpty();
            assertThat(ok.get()).isGreaterThan(32);
            assertThat(heapAfter).isLessThan(heapBefore + (64L << 20));
            assertThat(f.metric("memwall_running_sequences")).isZero();
            assertThat(f.metric("memwall_kv_cache_bytes")).isZero();
            assertThat(f.metric("memwall_queue_depth")).isZero();
        }
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
