package org.memwall.plan;

import java.util.Locale;

/**
 * A deployment sized for a workload: memory fit per device, single-sequence speeds, the largest
 * concurrency that meets the latency targets, and what the whole deployment serves at its operating
 * load, with power, energy and cost. Latency at B concurrent sequences of a replica under continuous
 * batching: each sequence brings one prompt per {@code output} steps, so a step carries on average
 * B · input / output prompt tokens beside its B decode tokens, sharing its weight reads
 * ({@link Roofline#step}):
 * <pre>
 *   tpot(B) = step(B decode tokens at c̄, B · input / output prompt tokens)     c̄ = input + output / 2
 *   ttft(B) = prefill(input) + step(B, c̄)
 * </pre>
 *
 * @param maxConcurrency     per replica: the most sequences that fit and meet the targets (0: none)
 * @param concurrency        the whole deployment's operating load (sequences)
 * @param outputTokensPerS   the whole deployment's output tokens/s at that load
 */
public record Plan(String model, String hardware, String weights, String kv, int tp, int replicas, int devices,
                   boolean fits, long memoryBytesPerDevice, long weightBytesPerDevice, long kvBytesPerSequence,
                   long memoryShortfallBytes, int memoryMaxConcurrency, double decodeTokensPerS, double prefillTokensPerS,
                   int maxConcurrency, int concurrency, boolean meetsTargets, double outputTokensPerS, double ttftS,
                   double tpotS, double powerW, double joulesPerToken, double usdPerMillionTokens) {

    /** Share of the memory left after weights and activations that an engine gives the KV cache (TensorRT-LLM's default). */
    static final double MEMORY_FRACTION = 0.9;
    /** Tokens a prefill chunk holds at most (activation workspace). */
    static final int CHUNK = 8192;

    /** Latency and throughput of one replica at {@code batch} sequences. */
    public record Point(int batch, double ttftS, double tpotS, double tokensPerS) {
    }

    public static Plan of(Workload w, Deployment d) {
        return new Sizing(w, d).plan();
    }

    public String toJson() {
        return String.format(Locale.ROOT, "{\"model\": \"%s\", \"hardware\": \"%s\", \"type\": \"%s\", \"kv_type\": \"%s\", \"tp\": %d, "
                        + "\"replicas\": %d, \"devices\": %d, \"fits\": %b, \"memory_bytes_per_device\": %d, \"weight_bytes_per_device\": %d, "
                        + "\"kv_bytes_per_sequence\": %d, \"memory_shortfall_bytes\": %d, \"memory_max_concurrency\": %d, "
                        + "\"decode_tokens_per_s\": %s, \"prefill_tokens_per_s\": %s, \"max_concurrency\": %d, \"concurrency\": %d, "
                        + "\"meets_targets\": %b, \"output_tokens_per_s\": %s, \"ttft_s\": %s, \"tpot_s\": %s, \"power_w\": %s, "
                        + "\"joules_per_token\": %s, \"usd_per_million_tokens\": %s}",
                Json.escape(model), Json.escape(hardware), weights, kv, tp, replicas, devices, fits, memoryBytesPerDevice, weightBytesPerDevice,
                kvBytesPerSequence, memoryShortfallBytes, memoryMaxConcurrency, Json.number(decodeTokensPerS), Json.number(prefillTokensPerS),
                maxConcurrency, concurrency, meetsTargets, Json.number(outputTokensPerS), Json.number(ttftS), Json.number(tpotS),
                Json.number(powerW), Json.number(joulesPerToken), Json.number(usdPerMillionTokens));
    }

    /** The arithmetic of one workload on one replica shape (the plots read its roofline and latency curve). */
    static final class Sizing {
        private final Workload w;
        private final Deployment d;
        final Roofline r;
        /** Mean context of a decode step, and the seconds of one prompt's prefill. */
        final double context;
        final double prefill;
        private final long weightsPerDevice;
        private final long activations;
        private final double kvPerSequence;

        Sizing(Workload w, Deployment d) {
            this.w = w;
            this.d = d;
            this.r = new Roofline(w.model(), w.weights(), w.kv(), d.hardware(), d.efficiency(), d.tp());
            this.context = w.inputTokens() + w.outputTokens() / 2.0;
            this.prefill = r.prefill(w.inputTokens());
            this.weightsPerDevice = (long) Math.ceil((double) r.weightBytes() / d.tp());
            var c = w.model().config();
            int ffn = c.feedForwardLength() * Math.max(1, c.expertUsedCount());
            long width = 4L * c.embeddingLength() + 2L * ffn + c.queryDim() + c.keyDim() + c.kvValueDim();
            long vocab = w.model().tensors().stream().filter(m -> m.role() == ModelSpec.Role.EMBEDDING).mapToLong(m -> m.dims()[1]).sum();
            this.activations = ((Math.min(w.inputTokens(), CHUNK) + 256L) * width * 2 + 256L * vocab * 4) / d.tp();
            this.kvPerSequence = r.kvBytes(w.inputTokens() + w.outputTokens()) / d.tp();
        }

        double step(int batch) {
            return r.decodeStep(batch, context);
        }

        /** A step of b decoding sequences with the prompts continuous batching interleaves: b / output of a prompt per step. */
        Point point(int b) {
            double tpot = r.step(b, context, (double) b * w.inputTokens() / w.outputTokens(), Roofline.meanContext(w.inputTokens()));
            return new Point(b, prefill + step(b), tpot, b / tpot);
        }

        boolean meets(int b) {
            Point p = point(b);
            return !(p.ttftS() > w.ttftTarget()) && !(p.tpotS() > w.tpotTarget());
        }

        /** Requests per second one replica completes at {@code b} sequences. */
        double requestRate(int b) {
            Point p = point(b);
            return b / (p.ttftS() + w.outputTokens() * p.tpotS());
        }

        Plan plan() {
            double free = (d.hardware().memoryBytes() - weightsPerDevice - activations) * MEMORY_FRACTION;
            boolean fits = free >= kvPerSequence;
            int memoryCap = fits ? (int) Math.min(Integer.MAX_VALUE / 2, Math.floor(free / kvPerSequence)) : 0;
            // Short by what one sequence needs beyond the memory: weights, activations and its KV within the engine's share.
            long shortfall = fits ? 0 : (long) Math.ceil(weightsPerDevice + activations + kvPerSequence / MEMORY_FRACTION - d.hardware().memoryBytes());
            int max = largest(memoryCap, this::meets);
            int replicas;
            int perReplica;
            if (d.count() > 0) {
                replicas = d.count() / d.tp();
                if (w.concurrency() > 0) {
                    perReplica = (w.concurrency() + replicas - 1) / replicas;
                } else if (!Double.isNaN(w.rate())) {
                    perReplica = smallestFor(w.rate() / replicas, Math.max(memoryCap, 1));
                } else {
                    perReplica = Math.max(max, 1);
                }
            } else if (w.concurrency() > 0) {
                replicas = (w.concurrency() + Math.max(max, 1) - 1) / Math.max(max, 1);
                perReplica = (w.concurrency() + replicas - 1) / replicas;
            } else if (!Double.isNaN(w.rate()) && max > 0) {
                replicas = (int) Math.ceil(w.rate() / requestRate(max));
                perReplica = smallestFor(w.rate() / replicas, max);
            } else {
                replicas = 1;
                perReplica = Math.max(max, 1);
            }
            Point p = point(perReplica);
            int devices = replicas * d.tp();
            double tokens = replicas * p.tokensPerS();
            double power = devices * d.hardware().powerW() * d.pue();
            double usd = d.usdPerDeviceHour() * devices / (tokens * 3600) * 1e6;
            long memory = weightsPerDevice + activations + (long) Math.ceil(perReplica * kvPerSequence);
            return new Plan(w.model().name(), d.hardware().id(), w.weights().label(), w.kv().label(), d.tp(), replicas, devices, fits, memory,
                    weightsPerDevice, (long) Math.ceil(kvPerSequence * d.tp()), shortfall, memoryCap, 1 / step(1), w.inputTokens() / prefill, max,
                    replicas * perReplica, fits && perReplica <= max, tokens, p.ttftS(), p.tpotS(), power, power / tokens, usd);
        }

        /** Smallest batch whose request rate reaches {@code rate}, at most {@code cap} (cap when none does). */
        private int smallestFor(double rate, int cap) {
            int lo = 1;
            int hi = Math.max(cap, 1);
            if (requestRate(hi) < rate) {
                return hi;
            }
            while (lo < hi) {
                int mid = (lo + hi) >>> 1;
                if (requestRate(mid) >= rate) {
                    hi = mid;
                } else {
                    lo = mid + 1;
                }
            }
            return lo;
        }
    }

    /** Largest b in [1, cap] with {@code ok(b)}, for a condition that holds up to some b and fails after; 0 when none. */
    static int largest(int cap, java.util.function.IntPredicate ok) {
        if (cap < 1 || !ok.test(1)) {
            return 0;
        }
        int lo = 1;
        int hi = cap;
        while (lo < hi) {
            int mid = (int) (((long) lo + hi + 1) >>> 1);
            if (ok.test(mid)) {
                lo = mid;
            } else {
                hi = mid - 1;
            }
        }
        return lo;
    }
}
