package org.memwall.model;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.ref.Cleaner;
import java.nio.ByteBuffer;
import org.memwall.MemwallException;
import org.memwall.quant.KeyPlanes;
import org.memwall.quant.QuantFormat;
import org.memwall.quant.Quantizer;

/**
 * The CPU's cache: the keys and values of one sequence for every layer, off the Java heap, in the
 * {@link KvType} chosen for it. Storage grows in blocks of {@link #BLOCK} positions as the sequence
 * grows, so a short conversation with a 128K-context model holds only what it uses; closing the
 * cache frees them (a cache dropped without closing is freed when it is collected).
 *
 * <p>A sliding-window layer attends to its last {@code window} positions only, so it keeps them in a
 * ring of {@link #ringPositions} slots (position p in slot p mod ring) instead of the whole context:
 * the window, plus the {@link #SLACK} positions a forward may store before attention reads them.
 *
 * <p>Layout of one layer's block: for each KV head in turn, the block's values of that head, {@code valueDim} per
 * position, in the format of the type — F32, F16, or Q8_0's blocks of 32 (f16 scale, 32 int8) — so a head's value rows
 * for consecutive positions are contiguous and attention decodes a run of them in one call; the keys take the same
 * bytes per head laid out by dimension ({@link KeyPlanes}: one dimension of consecutive positions side by side), so
 * attention scores a vector of positions at once.
 */
public final class HostKvCache implements KvCache {
    public static final int BLOCK = 256;
    private static final int SHIFT = 8;
    /** At most this many positions of one sequence are stored before attention reads: {@link Attention} works in chunks of this many tokens. */
    static final int SLACK = BLOCK;
    private static final Cleaner CLEANER = Cleaner.create();

    private final KvType type;
    private final QuantFormat format;
    private final int layers;
    private final int kvHeads;
    private final int headDim;
    private final int valueDim;
    private final int capacity;
    private final int window;
    private final boolean[] sliding;
    /** Per layer: the positions it holds, the capacity or a sliding layer's ring. */
    private final int[] slots;
    private final MemorySegment[][] keys;
    private final MemorySegment[][] values;
    /** One key row of the type: where a Q8_0 key is quantized before it is scattered into planes. */
    private final ByteBuffer keyRow;
    private final ByteBuffer[][] valueWriters;
    private final int[] blocks;
    private final Arena arena;
    private final Cleaner.Cleanable cleanable;
    /** The highest position reserved so far, -1 before the first. */
    private int highest = -1;

    /**
     * A cache for {@code capacity} positions: {@code kvHeads} heads of {@code headDim} key and
     * {@code valueDim} value values per layer, stored as {@code type}; layers marked {@code sliding}
     * keep only the last {@code window} positions.
     */
    public HostKvCache(int layers, int kvHeads, int headDim, int valueDim, int capacity, KvType type, int window, boolean[] sliding) {
        requireFits(type, headDim, valueDim);
        this.type = type;
        this.format = QuantFormat.of(type.format);
        this.layers = layers;
        this.kvHeads = kvHeads;
        this.headDim = headDim;
        this.valueDim = valueDim;
        this.capacity = capacity;
        this.window = window;
        this.sliding = sliding.clone();
        this.slots = new int[layers];
        int maxBlocks = 0;
        for (int l = 0; l < layers; l++) {
            slots[l] = window > 0 && sliding[l] ? Math.min(capacity, ringPositions(window)) : capacity;
            maxBlocks = Math.max(maxBlocks, (slots[l] + BLOCK - 1) >> SHIFT);
        }
        this.keys = new MemorySegment[layers][maxBlocks];
        this.values = new MemorySegment[layers][maxBlocks];
        this.keyRow = ByteBuffer.allocate((int) type.rowBytes(headDim));
        this.valueWriters = new ByteBuffer[layers][maxBlocks];
        this.blocks = new int[layers];
        this.arena = Arena.ofShared();
        this.cleanable = CLEANER.register(this, arena::close);
    }

    /** Fails, naming the way out, when {@code type} cannot store heads of these sizes in whole blocks. */
    public static void requireFits(KvType type, int headDim, int valueDim) {
        if (!type.fits(headDim) || !type.fits(valueDim)) {
            throw new MemwallException("a " + type.label() + " KV cache needs head sizes that are multiples of 32; this model's are "
                    + headDim + "/" + valueDim + " (use --kv-type f16 or f32)");
        }
    }

    public static HostKvCache forModel(ModelConfig c, int capacity, KvType type) {
        return new HostKvCache(c.blockCount(), c.headCountKv(), c.headDim(), c.valueDim(), capacity, type, c.slidingWindow(), c.slidingLayers());
    }

    /** Slots of a sliding layer's ring: the window and the slack, in whole blocks. */
    public static int ringPositions(int window) {
        return (window + SLACK + BLOCK - 1) / BLOCK * BLOCK;
    }

    /** The most bytes a cache of {@code positions} positions of this model takes: every position of full layers, at most a ring of sliding ones. */
    public static long bytes(ModelConfig c, KvType type, int positions) {
        requireFits(type, c.headDim(), c.valueDim());
        long row = type.rowBytes(c.keyDim()) + type.rowBytes(c.kvValueDim());
        long total = 0;
        for (int l = 0; l < c.blockCount(); l++) {
            total += row * (c.isSliding(l) ? Math.min(positions, ringPositions(c.slidingWindow())) : positions);
        }
        return total;
    }

    /** Bytes per position of the layers that keep every position (sliding layers' rings are a fixed cost: {@link #bytes}). */
    static long bytesPerPosition(ModelConfig c, KvType type) {
        long row = type.rowBytes(c.keyDim()) + type.rowBytes(c.kvValueDim());
        long total = 0;
        for (int l = 0; l < c.blockCount(); l++) {
            total += c.isSliding(l) ? 0 : row;
        }
        return total;
    }

    public KvType type() {
        return type;
    }

    @Override
    public int capacity() {
        return capacity;
    }

    @Override
    public void reserve(int position) {
        if (position < 0 || position >= capacity) {
            throw new MemwallException("position " + position + " is outside the context of " + capacity + " tokens");
        }
        highest = Math.max(highest, position);
        for (int l = 0; l < layers; l++) {
            int need = (Math.min(position, slots[l] - 1) >> SHIFT) + 1;
            for (; blocks[l] < need; blocks[l]++) {
                int b = blocks[l];
                int rows = blockRows(l, b);
                keys[l][b] = arena.allocate(type.rowBytes(rows * kvHeads * headDim) + KeyPlanes.PAD, 64);
                values[l][b] = arena.allocate(type.rowBytes(rows * kvHeads * valueDim), 64);
                valueWriters[l][b] = values[l][b].asByteBuffer();
            }
        }
    }

    @Override
    public boolean canResumeAt(int position) {
        for (int l = 0; l < layers; l++) {
            int needed = window > 0 && sliding[l] ? Math.max(0, position - window) : 0;
            if (needed < position && needed <= highest - slots[l]) {
                return false;
            }
        }
        return true;
    }

    @Override
    public int copyPrefix(KvCache from, int positions) {
        if (!(from instanceof HostKvCache src) || src.type != type || src.layers != layers || src.kvHeads != kvHeads
                || src.headDim != headDim || src.valueDim != valueDim || src.window != window) {
            throw new IllegalArgumentException("a KV cache of another shape, type or device");
        }
        if (positions <= 0) {
            return 0;
        }
        if (positions - 1 > src.highest) {
            throw new IllegalArgumentException("the source holds fewer than " + positions + " positions");
        }
        if (!src.canResumeAt(positions)) {
            return 0; // a sliding layer's ring has moved past the window that ends there
        }
        reserve(positions - 1);
        for (int l = 0; l < layers; l++) {
            int p = window > 0 && sliding[l] ? Math.max(0, positions - window) : 0;
            while (p < positions) {
                int end = Math.min(positions, (p | (BLOCK - 1)) + 1);
                copyKeys(src, l, p, end - p);
                copyValues(src, l, p, end - p);
                p = end;
            }
        }
        return positions;
    }

    /** Copies the keys of {@code count} positions from {@code first} (all in one block) of every head of layer l. */
    private void copyKeys(HostKvCache src, int l, int first, int count) {
        int s = src.slot(l, first);
        int d = slot(l, first);
        int fromRows = src.blockRows(l, s >> SHIFT);
        int toRows = blockRows(l, d >> SHIFT);
        for (int h = 0; h < kvHeads; h++) {
            KeyPlanes.copy(type.format, src.keys[l][s >> SHIFT], type.rowBytes((long) h * fromRows * headDim), fromRows, s & (BLOCK - 1),
                    keys[l][d >> SHIFT], type.rowBytes((long) h * toRows * headDim), toRows, d & (BLOCK - 1), count, headDim);
        }
    }

    /** Copies {@code count} value rows from {@code first} (all in one block) of every head of layer l. */
    private void copyValues(HostKvCache src, int l, int first, int count) {
        int s = src.slot(l, first);
        int d = slot(l, first);
        MemorySegment a = src.values[l][s >> SHIFT];
        MemorySegment b = values[l][d >> SHIFT];
        for (int h = 0; h < kvHeads; h++) {
            long at = type.rowBytes(((long) h * src.blockRows(l, s >> SHIFT) + (s & (BLOCK - 1))) * valueDim);
            long into = type.rowBytes(((long) h * blockRows(l, d >> SHIFT) + (d & (BLOCK - 1))) * valueDim);
            MemorySegment.copy(a, at, b, into, type.rowBytes(count * valueDim));
        }
    }

    private int slot(int layer, int position) {
        return position % slots[layer];
    }

    /** Positions block b of layer l holds: BLOCK, or what is left of its slots for the last one (so a cache never exceeds its capacity). */
    private int blockRows(int layer, int b) {
        return Math.min(BLOCK, slots[layer] - b * BLOCK);
    }

    @Override
    public long allocatedBytes() {
        long total = 0;
        for (int l = 0; l < layers; l++) {
            long rows = 0;
            for (int b = 0; b < blocks[l]; b++) {
                rows += blockRows(l, b);
            }
            total += rows * (type.rowBytes(kvHeads * headDim) + type.rowBytes(kvHeads * valueDim));
        }
        return total;
    }

    @Override
    public void close() {
        cleanable.clean();
    }

    /** Stores one position's key row {@code k[kOff ..]} and value row {@code v[vOff ..]} (all heads) in layer l. Not thread-safe. */
    void write(int layer, int position, float[] k, int kOff, float[] v, int vOff) {
        int s = slot(layer, position);
        int b = s >> SHIFT;
        int rows = blockRows(layer, b);
        int r = s & (BLOCK - 1);
        for (int h = 0; h < kvHeads; h++) {
            KeyPlanes.put(type.format, keys[layer][b], type.rowBytes((long) h * rows * headDim), rows, r, k, kOff + h * headDim, headDim, keyRow);
            put(valueWriters[layer][b], type.rowBytes((h * rows + r) * valueDim), v, vOff + h * valueDim, valueDim);
        }
    }

    private void put(ByteBuffer out, long at, float[] x, int offset, int n) {
        out.position((int) at);
        Quantizer.quantize(type.format, x, offset, n, out);
    }

    /**
     * Decodes the keys of head {@code head} at the {@link KeyPlanes#RUN} positions from {@code first} (a multiple of
     * RUN) of layer l: dimension d of position first + c to {@code out[d·RUN + c]}. Positions not yet stored (past the
     * last written, or past the cache's capacity) decode to whatever their bytes hold.
     */
    void readKeyRun(int layer, int head, int first, float[] out) {
        int s = slot(layer, first);
        int b = s >> SHIFT;
        int rows = blockRows(layer, b);
        KeyPlanes.decode(type.format, keys[layer][b], type.rowBytes((long) head * rows * headDim), rows, s & (BLOCK - 1), headDim, out);
    }

    /**
     * Decodes the values of head {@code head} at positions {@code first .. first+count-1} of layer l into
     * {@code out[0 .. count·valueDim)}; the positions must lie in one block ({@link #run}).
     */
    void readValues(int layer, int head, int first, int count, float[] out) {
        int s = slot(layer, first);
        int b = s >> SHIFT;
        format.dequantize(values[layer][b], ((long) head * blockRows(layer, b) + (s & (BLOCK - 1))) * valueDim, out, 0, count * valueDim);
    }

    /** How many positions from {@code first} up to {@code last} lie in first's block (at most {@code limit}): a run {@link #readValues} can decode at once. */
    static int run(int first, int last, int limit) {
        return Math.min(limit, Math.min(last, first | (BLOCK - 1)) - first + 1);
    }
}
