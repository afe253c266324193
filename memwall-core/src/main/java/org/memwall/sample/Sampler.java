package org.memwall.sample;

import java.util.Arrays;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.ToIntFunction;
import org.memwall.tensor.VectorMath;

/**
 * Picks tokens for one sequence: logit bias → repetition/frequency/presence penalties over the last
 * {@code repeatLastN} tokens → top-k → top-p → min-p → temperature → softmax → a draw from a seeded
 * generator (the order of llama.cpp's default chain). A {@link TokenConstraint} (a grammar) masks the
 * logits right after the bias. Buffers are sized to the vocabulary once;
 * {@link #applyAsInt} allocates nothing. Not thread-safe: one per sequence.
 */
public final class Sampler implements ToIntFunction<float[]> {
    private final SamplerSettings s;
    private final SplittableRandom random;
    private final int[] recent;
    private int recentCount;
    private int recentNext;
    private final int[] counts;
    /** Candidate ids, sorted by logit descending in their first {@code n} entries. */
    private final int[] ids;
    private final float[] work;
    private final float[] probs;
    private final TokenConstraint constraint;

    public Sampler(SamplerSettings settings, int vocabularySize) {
        this(settings, vocabularySize, null);
    }

    /** A sampler whose picks {@code constraint} restricts (null: none). */
    public Sampler(SamplerSettings settings, int vocabularySize, TokenConstraint constraint) {
        this.s = settings;
        this.constraint = constraint;
        this.random = new SplittableRandom(settings.seed() < 0 ? System.nanoTime() : settings.seed());
        this.recent = new int[Math.max(0, settings.repeatLastN())];
        this.counts = new int[vocabularySize];
        this.ids = new int[vocabularySize];
        this.work = new float[vocabularySize];
        this.probs = new float[vocabularySize];
    }

    /**
     * Whether this sampler picks the plain argmax of the logits, so that a forward pass may pick the
     * token where the logits are (a GPU) and pass it to {@link #accept} instead. Never with a
     * constraint: its mask must see the logits.
     */
    public boolean argmaxOnly() {
        return constraint == null && s.argmaxOnly();
    }

    /** Records a token of the sequence (prompt or generated) for the penalties. */
    public void accept(int token) {
        if (recent.length == 0 || token < 0 || token >= counts.length) {
            return;
        }
        if (recentCount == recent.length) {
            counts[recent[recentNext]]--;
        } else {
            recentCount++;
        }
        recent[recentNext] = token;
        counts[token]++;
        recentNext = (recentNext + 1) % recent.length;
    }

    /** Picks the next token from {@code logits} (not modified) and records it. */
    @Override
    public int applyAsInt(float[] logits) {
        int token = pick(logits);
        accept(token);
        if (constraint != null) {
            constraint.accept(token);
        }
        return token;
    }

    private int pick(float[] logits) {
        int v = Math.min(logits.length, work.length);
        System.arraycopy(logits, 0, work, 0, v);
        for (Map.Entry<Integer, Float> e : s.logitBias().entrySet()) {
            int id = e.getKey();
            if (id >= 0 && id < v) {
                work[id] += e.getValue();
            }
        }
        if (constraint != null) {
            constraint.mask(work, v);
        }
        penalize(v);
        if (s.greedy()) {
            return argmax(work, v);
        }
        int finite = finite(v);
        if (finite == 0) {
            return argmax(work, v);
        }
        boolean cuts = s.topP() < 1f || s.minP() > 0f;
        if (s.topK() <= 0 || s.topK() >= finite) {
            if (!cuts) {
                return drawUnsorted(finite);
            }
            if (finite > BUCKETED) {
                return draw(tail(finite));
            }
        }
        int n = topK(finite, s.topK() > 0 ? Math.min(s.topK(), finite) : finite);
        // Softmax at temperature 1 for the top-p and min-p cuts, as llama.cpp does.
        float max = work[ids[0]];
        double sum = softmax(n, max, 1f);
        n = cut(n, sum);
        return draw(n);
    }

    /** Keeps the first n of the sorted candidates that top-p (with {@code sum} their softmax's total) and min-p keep. */
    private int cut(int n, double sum) {
        if (s.topP() < 1f) {
            double cum = 0;
            int keep = n;
            for (int i = 0; i < n; i++) {
                cum += probs[i] / sum;
                if (cum >= s.topP()) {
                    keep = i + 1;
                    break;
                }
            }
            n = keep;
        }
        if (s.minP() > 0f) {
            float threshold = (float) (probs[0] / sum * s.minP());
            int keep = 1;
            while (keep < n && probs[keep] / sum >= threshold) {
                keep++;
            }
            n = keep;
        }
        return n;
    }

    /** Above this many candidates without top-k, top-p and min-p sort only the candidates they may keep ({@link #tail}). */
    private static final int BUCKETED = 4096;
    /** Buckets of logit below the best for {@link #tail}. */
    private static final int BUCKETS = 1024;
    /** Logits further below the best than this share the last bucket (each weighs under e^-64 of the best). */
    private static final float SPAN = 64f;
    private final double[] bucketSums = new double[BUCKETS];

    /**
     * Top-p and min-p over the {@code n} finite candidates at ids[0 ..) without top-k, as {@link #cut} on all of them
     * sorted, but sorting only those in the buckets of logit that reach the top-p mass (a vocabulary of 128k sorted
     * per token cost milliseconds, on the thread that steps every sequence): the candidates kept, sorted, at ids[0 ..).
     */
    private int tail(int n) {
        float max = Float.NEGATIVE_INFINITY;
        float min = Float.POSITIVE_INFINITY;
        for (int i = 0; i < n; i++) {
            float l = work[ids[i]];
            max = Math.max(max, l);
            min = Math.min(min, l);
        }
        float scale = BUCKETS / Math.max(Math.min(max - min, SPAN), 1e-6f);
        Arrays.fill(bucketSums, 0);
        for (int i = 0; i < n; i++) {
            probs[i] = work[ids[i]];
        }
        double sum = VectorMath.expShifted(probs, 0, n, max);
        for (int i = 0; i < n; i++) {
            bucketSums[bucket(work[ids[i]], max, scale)] += probs[i];
        }
        // the buckets from the best down to the one where the top-p mass is reached: every kept candidate is in them
        int last = BUCKETS - 1;
        if (s.topP() < 1f) {
            double cum = 0;
            for (int b = 0; b < BUCKETS; b++) {
                cum += bucketSums[b] / sum;
                if (cum >= s.topP()) {
                    last = b;
                    break;
                }
            }
        }
        if (s.minP() > 0f) {
            last = Math.min(last, bucket(max + (float) Math.log(s.minP()), max, scale));
        }
        last = Math.min(BUCKETS - 1, last + 1); // one more: the cut below adds exp's other rounding in another order
        int m = 0;
        for (int i = 0; i < n; i++) {
            if (bucket(work[ids[i]], max, scale) <= last) {
                ids[m++] = ids[i];
            }
        }
        topK(m, m); // sorts them
        softmax(m, max, 1f);
        return cut(m, sum);
    }

    private static int bucket(float logit, float max, float scale) {
        return Math.min(BUCKETS - 1, Math.max(0, (int) ((max - logit) * scale)));
    }

    /** Draws from the first n candidates (sorted) at the request's temperature. */
    private int draw(int n) {
        float max = work[ids[0]];
        return choose(n, softmax(n, max, s.temperature()));
    }

    /** Draws one of the first n candidates by its weight at probs[i] ({@code sum} their total). */
    private int choose(int n, double sum) {
        double r = random.nextDouble() * sum;
        for (int i = 0; i < n; i++) {
            r -= probs[i];
            if (r < 0) {
                return ids[i];
            }
        }
        return ids[n - 1];
    }

    private void penalize(int v) {
        boolean repeat = s.repeatPenalty() != 1f;
        boolean openAi = s.frequencyPenalty() != 0f || s.presencePenalty() != 0f;
        if (recentCount == 0 || !(repeat || openAi)) {
            return;
        }
        for (int i = 0; i < recentCount; i++) {
            int id = recent[i];
            int c = counts[id];
            if (c <= 0 || id >= v) {
                continue;
            }
            // Each distinct token once: mark by negating its count while we visit it.
            counts[id] = -c;
            if (repeat) {
                work[id] = work[id] > 0 ? work[id] / s.repeatPenalty() : work[id] * s.repeatPenalty();
            }
            work[id] -= c * s.frequencyPenalty() + s.presencePenalty();
        }
        for (int i = 0; i < recentCount; i++) {
            int id = recent[i];
            if (counts[id] < 0) {
                counts[id] = -counts[id];
            }
        }
    }

    /** Puts the ids of the finite logits at ids[0 ..] in index order; returns how many. */
    private int finite(int v) {
        int n = 0;
        for (int i = 0; i < v; i++) {
            if (work[i] != Float.NEGATIVE_INFINITY && !Float.isNaN(work[i])) {
                ids[n++] = i;
            }
        }
        return n;
    }

    /** Moves the {@code k} largest of the n candidates at ids[0 ..] to the front, sorted descending; returns k. */
    private int topK(int n, int k) {
        // Partial selection: a min-heap of the k best, then sort them.
        for (int i = k / 2 - 1; i >= 0; i--) {
            siftDown(i, k);
        }
        for (int i = k; i < n; i++) {
            if (better(ids[i], ids[0])) {
                ids[0] = ids[i];
                siftDown(0, k);
            }
        }
        sortDescending(k);
        return k;
    }

    /**
     * Draws from all n candidates at ids[0 ..] (no cut) at the request's temperature, in index order: the same
     * distribution as in sorted order, without sorting the vocabulary.
     */
    private int drawUnsorted(int n) {
        float max = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) {
            max = Math.max(max, work[ids[i]]);
        }
        float t = s.temperature();
        for (int i = 0; i < n; i++) {
            probs[i] = work[ids[i]] / t;
        }
        return choose(n, VectorMath.expShifted(probs, 0, n, max / t));
    }

    private boolean better(int a, int b) {
        return work[a] > work[b] || (work[a] == work[b] && a < b);
    }

    private void siftDown(int i, int size) {
        while (true) {
            int l = 2 * i + 1;
            int r = l + 1;
            int worst = i;
            if (l < size && better(ids[worst], ids[l])) {
                worst = l;
            }
            if (r < size && better(ids[worst], ids[r])) {
                worst = r;
            }
            if (worst == i) {
                return;
            }
            int t = ids[i];
            ids[i] = ids[worst];
            ids[worst] = t;
            i = worst;
        }
    }

    /** Heap-sorts the min-heap in {@code ids[0..k)} into descending order. */
    private void sortDescending(int k) {
        for (int end = k - 1; end > 0; end--) {
            int t = ids[0];
            ids[0] = ids[end];
            ids[end] = t;
            siftDown(0, end);
        }
    }

    /** Fills {@link #probs} with exp((logit − max)/t) for the first n candidates; returns their sum. */
    private double softmax(int n, float max, float t) {
        double sum = 0;
        for (int i = 0; i < n; i++) {
            float p = (float) Math.exp((work[ids[i]] - max) / t);
            probs[i] = p;
            sum += p;
        }
        return sum;
    }

    private static int argmax(float[] v, int n) {
        int best = 0;
        for (int i = 1; i < n; i++) {
            if (v[i] > v[best]) {
                best = i;
            }
        }
        return best;
    }
}
