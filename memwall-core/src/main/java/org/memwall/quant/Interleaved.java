package org.memwall.quant;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;
import org.memwall.gguf.GgmlType;

/**
 * A weight matrix repacked once at load for the CPU: {@link #ROWS} rows interleaved (8 or 16), so that
 * one register holds the same weight of every row of a group, one lane per row. A product broadcasts an
 * activation and takes one fused multiply-add for eight rows: no horizontal sum, and each register of
 * decoded weights serves every token of a tile.
 *
 * <p><b>The canonical dot</b> of a format is fixed per format: Q4_0, Q4_K, Q6_K and MXFP4 multiply activations quantized
 * to int8 per block of 32 ({@link Int8Activations}) and add their exact integer block sums, scaled, in block order
 * (each class gives its own); Q8_0 multiplies floats, per block of 32 {@code sum = fma(q[k], x[k], sum)} for k in order
 * from 0 (q exact as floats), then {@code acc = fma(sum, d, acc)}, blocks in order from acc = 0 ({@link FloatInterleaved}).
 * Each lane accumulates its own row in that order whatever the number of tokens or rows in a tile, so a token's
 * outputs are the same bits alone, batched, or
 * computed by {@link #referenceDot} one scalar at a time.
 *
 * <p>Row group g (rows 8g .. 8g + 7) is stored contiguously, {@link #groupBytes} long, aligned to 64
 * bytes; rows past the matrix are zero. Each format's class documents its group layout and holds its
 * kernels: {@link #multiply} computes a range of row groups for a range of tokens, one token in its own kernel
 * (decode) and several in register tiles of four or six tokens by two row groups (prefill, batched decode: each decoded
 * weight vector serves every token of the tile, each broadcast activation two groups).
 */
public abstract sealed class Interleaved permits IntegerInterleaved, FloatInterleaved {
    /**
     * Rows per group: the float lanes of this machine's vectors, 8 (256-bit, AVX2) or 16 (512-bit, AVX-512);
     * the copy is made for the machine it runs on.
     */
    public static final int ROWS = Math.clamp(FloatVector.SPECIES_PREFERRED.length(), 8, 16);
    /** Bytes of one vector: a row group's floats, or one 32-bit word per row. */
    static final int V = 4 * ROWS;
    /**
     * Elements of a row group decoded at a time for several tokens: two groups' pieces (16 or 32 KiB of
     * floats) stay in L1 while every token of the block is multiplied with them.
     */
    static final int TILE_PIECE = 256;

    static final VectorSpecies<Float> FR = VectorSpecies.of(float.class, VectorShape.forBitSize(32 * ROWS));
    static final VectorSpecies<Integer> IR = FR.withLanes(int.class);
    /** One byte per row. */
    static final VectorSpecies<Byte> BR = VectorSpecies.of(byte.class, VectorShape.forBitSize(8 * ROWS));
    static final ValueLayout.OfFloat FLOAT = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    /** Whether this machine's vectors are wide enough for eight float lanes in one register. */
    public static final boolean AVAILABLE = FloatVector.SPECIES_PREFERRED.vectorBitSize() >= 256;

    final MemorySegment data;
    final int rows;
    final int n;
    final long groupBytes;

    /** A copy whose bytes are {@code data} (already packed), or, when null, newly allocated for {@link #pack} to fill. */
    Interleaved(int rows, int n, long groupBytes, MemorySegment data) {
        this.rows = rows;
        this.n = n;
        this.groupBytes = groupBytes;
        long bytes = groups() * groupBytes;
        if (data == null) {
            data = NativeMemory.uninitialized(bytes, 64); // every byte is written by pack
        } else if (data.byteSize() != bytes || data.address() % 64 != 0) {
            throw new IllegalArgumentException("an interleaved copy of " + rows + " × " + n + " takes " + bytes
                    + " bytes aligned to 64, not " + data.byteSize() + " at " + data.address() % 64);
        }
        this.data = data;
    }

    /** An empty interleaved copy for {@code rows} rows of {@code n} elements of {@code type}, or null when that format is kept in its file layout. */
    public static Interleaved allocate(GgmlType type, int rows, int n) {
        return make(type, rows, n, null);
    }

    /**
     * The interleaved copy whose packed bytes are {@code data} (as {@link #data()} held them for the same type, shape and
     * {@link #layout}, e.g. read back from a file), or null when that format is kept in its file layout.
     */
    public static Interleaved over(GgmlType type, int rows, int n, MemorySegment data) {
        return make(type, rows, n, java.util.Objects.requireNonNull(data));
    }

    /** Whether matrices of {@code type} get an interleaved copy on this machine. */
    public static boolean copies(GgmlType type) {
        return AVAILABLE && switch (type) {
            case Q4_0, Q8_0, Q4_K, Q6_K, MXFP4 -> true;
            default -> false;
        };
    }

    private static Interleaved make(GgmlType type, int rows, int n, MemorySegment data) {
        if (!copies(type)) {
            return null;
        }
        return switch (type) {
            case Q4_0 -> new InterleavedQ4_0(rows, n, data);
            case Q8_0 -> new InterleavedQ8_0(rows, n, data);
            case Q4_K -> new InterleavedQ4_K(rows, n, data);
            case Q6_K -> new InterleavedQ6_K(rows, n, data);
            case MXFP4 -> new InterleavedMXFP4(rows, n, data);
            default -> null;
        };
    }

    /** The packed bytes (read-only use: a copy's bytes may be a read-only mapping). */
    public final MemorySegment data() {
        return data;
    }

    private static volatile Long layout;

    /**
     * A fingerprint of every interleaved layout on this machine: a CRC-32 of {@link #ROWS} and of the bytes each format
     * packs from one fixed pseudo-random group of file rows. Copies saved with another fingerprint (another vector
     * width, another build whose layouts differ) are not this build's copies; no version number has to be kept by hand.
     */
    public static long layout() {
        Long l = layout;
        if (l == null) {
            java.util.zip.CRC32 crc = new java.util.zip.CRC32();
            crc.update(ROWS);
            java.util.SplittableRandom random = new java.util.SplittableRandom(20261205);
            for (GgmlType type : new GgmlType[] {GgmlType.Q4_0, GgmlType.Q8_0, GgmlType.Q4_K, GgmlType.Q6_K, GgmlType.MXFP4}) {
                Interleaved il = allocate(type, ROWS, 512);
                if (il == null) {
                    continue;
                }
                byte[] file = new byte[Math.toIntExact(ROWS * il.fileRowBytes())];
                for (int i = 0; i < file.length; i++) {
                    file[i] = (byte) random.nextInt(256);
                }
                il.pack(MemorySegment.ofArray(file), 0, 1);
                crc.update(type.ordinal());
                crc.update(il.data.asByteBuffer());
            }
            layout = l = crc.getValue();
        }
        return l;
    }

    /** Elements per row. */
    public final int rowLength() {
        return n;
    }

    public final int groups() {
        return (rows + ROWS - 1) / ROWS;
    }

    public final long byteSize() {
        return data.byteSize();
    }

    /**
     * Repacks row groups [from, to) from {@code file}, the matrix in its file layout (row r at element r·n).
     * Rows are copied in bulk to a heap array and each group is built in one and copied out in bulk: the
     * repacking runs once, mostly before the JIT has compiled it, and element accesses to a segment cost far
     * more than to an array there (a first version with segment accesses loaded a 0.7 GiB file in 7–9 s).
     */
    public final void pack(MemorySegment file, int from, int to) {
        int rowBytes = Math.toIntExact(fileRowBytes());
        byte[] row = new byte[rowBytes];
        byte[] group = new byte[Math.toIntExact(groupBytes)];
        for (int g = from; g < to; g++) {
            java.util.Arrays.fill(group, (byte) 0);
            for (int i = 0; i < ROWS && ROWS * g + i < rows; i++) {
                MemorySegment.copy(file, ValueLayout.JAVA_BYTE, (long) (ROWS * g + i) * rowBytes, row, 0, rowBytes);
                packRow(row, group, i);
            }
            MemorySegment.copy(group, 0, data, ValueLayout.JAVA_BYTE, g * groupBytes, group.length);
        }
    }

    /** Bytes of one row in the file. */
    abstract long fileRowBytes();

    /** Writes the file row {@code row} as row i of the group whose interleaved bytes are {@code group}. */
    abstract void packRow(byte[] row, byte[] group, int i);

    // Little-endian views of byte arrays: one load or store each (assembled byte by byte, the repacking spent a
    // fifth of the load time in getInt).
    private static final VarHandle SHORTS = MethodHandles.byteArrayViewVarHandle(short[].class, ByteOrder.LITTLE_ENDIAN);
    private static final VarHandle INTS = MethodHandles.byteArrayViewVarHandle(int[].class, ByteOrder.LITTLE_ENDIAN);
    private static final VarHandle LONGS = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);

    static int getInt(byte[] a, int o) {
        return (int) INTS.get(a, o);
    }

    static long getLong(byte[] a, int o) {
        return (long) LONGS.get(a, o);
    }

    static float getHalf(byte[] a, int o) {
        return Float.float16ToFloat((short) SHORTS.get(a, o));
    }

    static void putInt(byte[] a, int o, int v) {
        INTS.set(a, o, v);
    }

    static void putFloat(byte[] a, int o, float v) {
        putInt(a, o, Float.floatToRawIntBits(v));
    }

    /**
     * Batches of fewer tokens than this take the format's one-token kernel for each token, a row group after another: the
     * group comes from memory for the first token and from the caches for the others, and below this many that beats
     * decoding the group to floats for the register tiles (measured per format, {@code KernelCpuTime TYPE TOKENS 8192
     * 2048} from memory; each class gives its figures). The same bits either way.
     */
    abstract int tiledFrom();

    /**
     * Whether this format multiplies activations quantized to int8 ({@link Int8Activations}) in integer
     * lanes ({@link IntegerInterleaved}); {@link #multiply} then takes them.
     */
    public boolean int8Activations() {
        return false;
    }

    /**
     * {@code out[t·stride + r − first] = row r · x[t·n ..]} for the rows r in [first, first + count) of row
     * groups [from, to) and tokens t in [t0, t1) (the groups' other rows belong to no output).
     * One token, and each token of a batch below {@link #tiledFrom}: each format's one-token kernel; more: pairs of row
     * groups decoded {@link #TILE_PIECE} elements at a time, each piece multiplied with every token before the next is decoded, the accumulators kept in memory
     * between pieces. The integer formats read {@code a}, the float formats {@code x}. (A virtual call: a pattern
     * switch over the two kinds here left its type test's bootstrap compiled by C1 in some JVMs.)
     */
    public abstract void multiply(int from, int to, int first, int count, float[] x, Int8Activations a, int t0, int t1, float[] out, int stride);

    /**
     * The canonical dot of row {@code row} with {@code x[xOffset ..]}, from the file layout, one scalar at a time: Q8_0's
     * block-scaled floats, or for a format with {@link #int8Activations} its own ({@link InterleavedQ4_0}, {@link InterleavedQ4_K}, {@link InterleavedQ6_K}).
     */
    public static float referenceDot(QuantFormat f, MemorySegment file, int row, int n, float[] x, int xOffset) {
        return switch (f.type()) {
            case Q4_0 -> InterleavedQ4_0.referenceDot(file, row, n, x, xOffset);
            case Q4_K -> InterleavedQ4_K.referenceDot(file, row, n, x, xOffset);
            case Q6_K -> InterleavedQ6_K.referenceDot(file, row, n, x, xOffset);
            case MXFP4 -> InterleavedMXFP4.referenceDot(file, row, n, x, xOffset);
            case Q8_0 -> InterleavedQ8_0.referenceDot(file, row, n, x, xOffset);
            default -> throw new IllegalArgumentException(f.type() + " has no interleaved form");
        };
    }

    // --- what the formats' kernels share ---

    static FloatVector floats(MemorySegment p, long offset) {
        return FloatVector.fromMemorySegment(FR, p, offset, ByteOrder.LITTLE_ENDIAN);
    }

    static IntVector ints(MemorySegment p, long offset) {
        return IntVector.fromMemorySegment(IR, p, offset, ByteOrder.LITTLE_ENDIAN);
    }

    /** Eight signed bytes (one per row) widened to floats. */
    static FloatVector signedBytes(MemorySegment p, long offset) {
        return (FloatVector) ByteVector.fromMemorySegment(BR, p, offset, ByteOrder.LITTLE_ENDIAN).convertShape(VectorOperators.B2F, FR, 0);
    }

    static FloatVector x(float[] x, int index) {
        return FloatVector.broadcast(FR, x[index]);
    }

    /**
     * Copies lanes [from, to) (clamped to the eight lanes) of the sums at {@code s[at ..]} to out[offset + lane].
     * No vector crosses a call: one passed to a method the JIT did not inline was boxed on the heap.
     */
    static void store(MemorySegment s, long at, float[] out, int offset, int from, int to) {
        int lo = Math.max(0, from);
        int hi = Math.min(ROWS, to);
        if (lo < hi) {
            MemorySegment.copy(s, FLOAT, at + 4L * lo, out, offset + lo, hi - lo);
        }
    }


    // --- what the integer kernels share (formats with int8 activations) ---

    /** Two 16-bit lanes per row: lanes 2i and 2i + 1 belong to row i. */
    static final VectorSpecies<Short> SR = FR.withLanes(short.class);
    static final ShortVector LOW = ShortVector.broadcast(SR, (short) 0xF);

    static ShortVector shorts(MemorySegment p, long offset) {
        return ShortVector.fromMemorySegment(SR, p, offset, ByteOrder.LITTLE_ENDIAN);
    }

    /** A pair of activations broadcast: the even 16-bit lanes get the low one, the odd lanes the high one. */
    static ShortVector pair(int xy) {
        return IntVector.broadcast(IR, xy).reinterpretAsShorts();
    }

    /** The nibbles in bytes 0, 2, 4, 6 of v packed into bits 0..15, byte 2m's at bits 4m..4m+3. */
    static int evenNibbles(long v) {
        v &= 0x00FF00FF00FF00FFL;
        v = (v | (v >>> 12)) & 0x000000FF000000FFL;
        return (int) (v | (v >>> 24)) & 0xFFFF;
    }

    static void putShort(byte[] a, int o, int v) {
        SHORTS.set(a, o, (short) v);
    }

    /**
     * Row i's exact sum of the 16-bit products at s[at ..] (lanes 2i and 2i + 1, added in 32 bits), as floats.
     * Kept out of the kernels' loops: inlined there with everything else, the JIT's node budget ran out and
     * vectors were boxed.
     */
    static FloatVector pairSums(MemorySegment s, long at) {
        return (FloatVector) pairSums(ints(s, at)).convert(VectorOperators.I2F, 0);
    }

    /**
     * Lanes 2i and 2i + 1 of {@code iv} read as signed 16-bit values and added in 32 bits: row i's exact sum. With lo
     * and hi the lanes, the int is hi·2^16 + (lo mod 2^16); adding lo·2^16 gives (hi + lo)·2^16 + (lo mod 2^16), whose
     * top 16 bits, shifted down with the sign, are hi + lo (at most 2^16 in magnitude: no overflow). Three
     * operations where shifting each lane into place and adding took four.
     */
    static IntVector pairSums(IntVector iv) {
        return iv.add(iv.lanewise(VectorOperators.LSHL, 16)).lanewise(VectorOperators.ASHR, 16);
    }
}
