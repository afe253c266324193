package org.memwall.gguf;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.memwall.MemwallException;

/**
 * A GGUF file (version 2 or 3), memory-mapped once. Opening validates the whole header and tensor
 * directory against the file size before anything is allocated from a count or length read from the
 * file; tensor data is never copied: {@link #tensorData} returns a slice of the mapping.
 *
 * <p>A model split by llama.cpp's {@code gguf-split} ({@code NAME-00001-of-0000N.gguf}, metadata
 * {@code split.no}, {@code split.count}, {@code split.tensors.count}) opens from its first part, which
 * holds the metadata: every part is mapped and {@link #tensors} holds the tensors of all of them.
 */
public final class GgufFile implements AutoCloseable {
    public static final int MAGIC = 0x46554747; // "GGUF" read as a little-endian u32
    public static final int DEFAULT_ALIGNMENT = 32;
    /** Longest metadata string or tensor name we accept; real files stay far below it. */
    static final long MAX_STRING_BYTES = 1L << 26;
    static final int MAX_DIMS = 4;
    static final long MAX_ALIGNMENT = 1L << 16;
    static final int MAX_ARRAY_DEPTH = 8;

    private static final ValueLayout.OfInt U32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong U64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private final Path path;
    private final Arena arena;
    /** The file's bytes as a plain native segment over the mapping (what the parser and the kernels read). */
    private final MemorySegment mapping;
    /** The mapping itself, for {@link #release}. */
    private final MemorySegment mapped;
    private final int version;
    private final GgufMetadata metadata;
    private final Map<String, TensorInfo> tensors;
    private final long dataOffset;
    private final int alignment;
    /** For a split model: the part holding each tensor of the other parts (empty otherwise). */
    private final Map<String, GgufFile> partOf;
    /** For a split model: parts 2..N, in order (empty otherwise). */
    private final List<GgufFile> otherParts;

    private GgufFile(Path path, Arena arena, MemorySegment mapping, MemorySegment mapped, int version, GgufMetadata metadata,
                     Map<String, TensorInfo> tensors, long dataOffset, int alignment) {
        this(path, arena, mapping, mapped, version, metadata, tensors, dataOffset, alignment, Map.of(), List.of());
    }

    private GgufFile(Path path, Arena arena, MemorySegment mapping, MemorySegment mapped, int version, GgufMetadata metadata,
                     Map<String, TensorInfo> tensors, long dataOffset, int alignment, Map<String, GgufFile> partOf, List<GgufFile> otherParts) {
        this.partOf = partOf;
        this.otherParts = otherParts;
        this.path = path;
        this.arena = arena;
        this.mapping = mapping;
        this.mapped = mapped;
        this.version = version;
        this.metadata = metadata;
        this.tensors = tensors;
        this.dataOffset = dataOffset;
        this.alignment = alignment;
    }

    /**
     * Opens, validates and maps {@code path} (and, for the first part of a split model, its other
     * parts); every problem is a {@link MemwallException} with one line.
     */
    public static GgufFile open(Path path) {
        GgufFile first = openPart(path);
        int count = GgufSplit.partCount(first);
        if (count == 1) {
            return first;
        }
        List<GgufFile> others = new ArrayList<>();
        try {
            Map<String, TensorInfo> tensors = new LinkedHashMap<>(first.tensors);
            Map<String, GgufFile> partOf = new LinkedHashMap<>();
            List<Path> paths = GgufSplit.partPaths(path, count);
            for (int no = 1; no < count; no++) {
                GgufFile part = GgufSplit.openOtherPart(paths.get(no), no, count);
                others.add(part);
                for (TensorInfo t : part.tensors.values()) {
                    if (tensors.put(t.name(), t) != null) {
                        throw new GgufFormatException("bad split model " + path + ": tensor '" + t.name() + "' appears in two parts");
                    }
                    partOf.put(t.name(), part);
                }
            }
            GgufSplit.checkTensorCount(first, tensors.size());
            return new GgufFile(path, first.arena, first.mapping, first.mapped, first.version, first.metadata, Collections.unmodifiableMap(tensors),
                    first.dataOffset, first.alignment, Map.copyOf(partOf), List.copyOf(others));
        } catch (RuntimeException e) {
            others.forEach(GgufFile::close);
            first.close();
            throw e;
        }
    }

    /** One file alone, split or not. */
    static GgufFile openPart(Path path) {
        Arena arena = Arena.ofShared();
        try (FileChannel channel = FileChannel.open(path, StandardOpenOption.READ)) {
            long size = channel.size();
            MemorySegment mapped = channel.map(FileChannel.MapMode.READ_ONLY, 0, size, arena);
            return parse(path, arena, plain(mapped, arena), mapped);
        } catch (NoSuchFileException e) {
            arena.close();
            throw new MemwallException("model file not found: " + path);
        } catch (IOException e) {
            arena.close();
            throw new MemwallException("cannot read " + path + ": " + e.getMessage());
        } catch (RuntimeException | Error e) {
            arena.close();
            if (e instanceof MemwallException m) {
                throw m;
            }
            // Anything else escaping the parser is a bug or a hostile file; never let an Error out.
            throw new GgufFormatException("bad GGUF file " + path + ": " + e);
        }
    }

    /**
     * The mapping as a plain read-only native segment over the same pages, valid while {@code arena} is open: the
     * kernels that read the file's layout then see the segment class of every other buffer (the interleaved copies, the
     * scratch), not a second one at each load (a Q5_K_M file decoded 15.1–16.9 → 17.2–17.5 tokens/s so; the repack
     * cache's mapping lost 20–35% read through the mapped class). Where native access is denied, the mapping itself.
     */
    private static MemorySegment plain(MemorySegment mapped, Arena arena) {
        try {
            return MemorySegment.ofAddress(mapped.address()).reinterpret(mapped.byteSize(), arena, null).asReadOnly();
        } catch (IllegalCallerException e) {
            return mapped;
        }
    }

    private static GgufFile parse(Path path, Arena arena, MemorySegment mapping, MemorySegment mapped) {
        Reader in = new Reader(path, mapping);
        if (mapping.byteSize() < 24) {
            throw in.fail("file is " + mapping.byteSize() + " bytes, too short for a GGUF header");
        }
        int magic = in.u32();
        if (magic != MAGIC) {
            throw in.fail(String.format("not a GGUF file (magic 0x%08x, expected \"GGUF\")", magic));
        }
        int version = in.u32();
        if (version != 2 && version != 3) {
            throw in.fail("unsupported GGUF version " + Integer.toUnsignedLong(version) + " (memwall reads versions 2 and 3)");
        }
        long tensorCount = in.u64();
        long kvCount = in.u64();
        // Each key/value needs at least a key length, a type and one byte; each tensor at least a name
        // length, n_dims, one dim, a type and an offset. Reject counts the file cannot possibly hold.
        in.requireCount(kvCount, 8 + 4 + 1, "metadata key/value count");
        in.requireCount(tensorCount, 8 + 4 + 8 + 4 + 8, "tensor count");

        Map<String, MetadataValue> kv = new LinkedHashMap<>();
        for (long i = 0; i < kvCount; i++) {
            String key = in.string("metadata key #" + i);
            long typeId = Integer.toUnsignedLong(in.u32());
            ValueType type = ValueType.byId(typeId);
            if (type == null) {
                throw in.fail("metadata key '" + key + "' has unknown value type " + typeId);
            }
            if (kv.put(key, in.value(type, key, 0)) != null) {
                throw in.fail("metadata key '" + key + "' appears twice");
            }
        }
        GgufMetadata metadata = new GgufMetadata(kv);

        int alignment = DEFAULT_ALIGNMENT;
        MetadataValue align = kv.get("general.alignment");
        if (align != null) {
            if (!align.type().isInteger()) {
                throw in.fail("general.alignment must be an integer, found " + align.type());
            }
            long a = align.asLong();
            if (a <= 0 || a > MAX_ALIGNMENT || Long.bitCount(a) != 1) {
                throw in.fail("general.alignment " + a + " is not a power of two up to " + MAX_ALIGNMENT);
            }
            alignment = (int) a;
        }

        List<long[]> rawDims = new ArrayList<>();
        List<String> names = new ArrayList<>();
        List<GgmlType> types = new ArrayList<>();
        List<Long> offsets = new ArrayList<>();
        for (long i = 0; i < tensorCount; i++) {
            String name = in.string("name of tensor #" + i);
            long nDims = Integer.toUnsignedLong(in.u32());
            if (nDims < 1 || nDims > MAX_DIMS) {
                throw in.fail("tensor '" + name + "' has " + nDims + " dimensions (1.." + MAX_DIMS + " allowed)");
            }
            long[] dims = new long[(int) nDims];
            for (int d = 0; d < nDims; d++) {
                dims[d] = in.u64();
                if (dims[d] <= 0) {
                    throw in.fail("tensor '" + name + "' has dimension " + d + " = " + Long.toUnsignedString(dims[d]));
                }
            }
            long typeId = Integer.toUnsignedLong(in.u32());
            GgmlType type = GgmlType.byId(typeId);
            if (type == null) {
                throw in.fail("tensor '" + name + "' has unknown ggml type " + typeId);
            }
            names.add(name);
            rawDims.add(dims);
            types.add(type);
            offsets.add(in.u64());
        }
        long dataOffset = alignUp(in.position(), alignment);
        long fileSize = mapping.byteSize();
        if (dataOffset > fileSize && tensorCount > 0) {
            throw in.fail("tensor data would start at byte " + dataOffset + " beyond file size " + fileSize);
        }

        Map<String, TensorInfo> tensors = new LinkedHashMap<>();
        for (int i = 0; i < names.size(); i++) {
            String name = names.get(i);
            long[] dims = rawDims.get(i);
            GgmlType type = types.get(i);
            long offset = offsets.get(i);
            long bytes;
            try {
                long elements = 1;
                for (long d : dims) {
                    elements = Math.multiplyExact(elements, d);
                }
                if (dims[0] % type.blockSize != 0) {
                    throw in.fail("tensor '" + name + "' row length " + dims[0] + " is not a multiple of " + type + "'s block size " + type.blockSize);
                }
                bytes = type.bytesFor(elements);
            } catch (ArithmeticException e) {
                throw in.fail("tensor '" + name + "' size overflows (dims " + java.util.Arrays.toString(dims) + ")");
            }
            if (offset < 0 || offset % alignment != 0) {
                throw in.fail("tensor '" + name + "' offset " + Long.toUnsignedString(offset) + " is not a multiple of the alignment " + alignment);
            }
            long end;
            try {
                end = Math.addExact(Math.addExact(dataOffset, offset), bytes);
            } catch (ArithmeticException e) {
                end = Long.MAX_VALUE;
            }
            if (end > fileSize) {
                throw in.fail("tensor '" + name + "' data ends at byte " + (end == Long.MAX_VALUE ? "beyond 2^63" : Long.toString(end)) + " beyond file size " + fileSize);
            }
            if (tensors.put(name, new TensorInfo(name, type, dims, offset, bytes)) != null) {
                throw in.fail("tensor '" + name + "' appears twice");
            }
        }
        List<TensorInfo> byOffset = new ArrayList<>(tensors.values());
        byOffset.sort(Comparator.comparingLong(TensorInfo::offset));
        for (int i = 1; i < byOffset.size(); i++) {
            TensorInfo prev = byOffset.get(i - 1);
            TensorInfo cur = byOffset.get(i);
            if (prev.offset() + prev.byteSize() > cur.offset()) {
                throw in.fail("tensors '" + prev.name() + "' and '" + cur.name() + "' overlap");
            }
        }
        return new GgufFile(path, arena, mapping, mapped, version, metadata, Collections.unmodifiableMap(tensors), dataOffset, alignment);
    }

    static long alignUp(long offset, long alignment) {
        return Math.addExact(offset, alignment - 1) / alignment * alignment;
    }

    public Path path() {
        return path;
    }

    public int version() {
        return version;
    }

    public GgufMetadata metadata() {
        return metadata;
    }

    public int alignment() {
        return alignment;
    }

    /** Absolute file offset where tensor data starts. */
    public long dataOffset() {
        return dataOffset;
    }

    /** Bytes of the file, or of all its parts for a split model. */
    public long fileSize() {
        long size = mapping.byteSize();
        for (GgufFile part : otherParts) {
            size += part.fileSize();
        }
        return size;
    }

    /** 1, or the number of files of a split model. */
    public int partCount() {
        return 1 + otherParts.size();
    }

    /** Every tensor, in directory order. */
    public Map<String, TensorInfo> tensors() {
        return tensors;
    }

    public TensorInfo tensorInfo(String name) {
        return tensors.get(name);
    }

    /** The bytes of one tensor: a read-only slice of the mapping, valid until {@link #close}. */
    public MemorySegment tensorData(TensorInfo info) {
        GgufFile part = partOf.getOrDefault(info.name(), this);
        return part.mapping.asSlice(part.dataOffset + info.offset(), info.byteSize());
    }

    /**
     * Releases the pages of {@code bytes} (a slice {@link #tensorData} handed out) from memory, as
     * {@link MemorySegment#unload} does: they are read from the file again if touched. Nothing for other segments.
     */
    public void release(MemorySegment bytes) {
        for (GgufFile part : partList()) {
            long offset = bytes.address() - part.mapping.address();
            if (offset >= 0 && offset + bytes.byteSize() <= part.mapping.byteSize()) {
                if (part.mapped.isMapped()) {
                    part.mapped.asSlice(offset, bytes.byteSize()).unload();
                }
                return;
            }
        }
    }

    private List<GgufFile> partList() {
        List<GgufFile> all = new ArrayList<>();
        all.add(this);
        all.addAll(otherParts);
        return all;
    }

    /** Unmaps the file (every part); segments handed out become invalid. */
    @Override
    public void close() {
        otherParts.forEach(GgufFile::close);
        arena.close();
    }

    /** A bounds-checked little-endian cursor over the mapping. */
    private static final class Reader {
        private final Path path;
        private final MemorySegment data;
        private long pos;

        Reader(Path path, MemorySegment data) {
            this.path = path;
            this.data = data;
        }

        long position() {
            return pos;
        }

        /** The problem on one line: names read from a damaged file may hold any bytes, control characters included. */
        GgufFormatException fail(String problem) {
            StringBuilder line = new StringBuilder(problem.length());
            problem.codePoints().forEach(c -> {
                if (Character.isISOControl(c)) {
                    line.append(String.format("\\x%02x", c));
                } else {
                    line.appendCodePoint(c);
                }
            });
            return new GgufFormatException("bad GGUF file " + path + ": " + line);
        }

        private void need(long bytes, String what) {
            if (bytes < 0 || bytes > data.byteSize() - pos) {
                throw fail(what + " at byte " + pos + " needs " + Long.toUnsignedString(bytes) + " bytes, but the file ends at byte " + data.byteSize());
            }
        }

        /** Rejects a count of items of at least {@code minBytes} each that the rest of the file cannot hold. */
        void requireCount(long count, long minBytes, String what) {
            long left = data.byteSize() - pos;
            if (count < 0 || count > left / minBytes) {
                throw fail(what + " " + Long.toUnsignedString(count) + " cannot fit in the " + left + " bytes left at byte " + pos);
            }
        }

        byte u8() {
            need(1, "a byte");
            return data.get(ValueLayout.JAVA_BYTE, pos++);
        }

        short u16() {
            need(2, "a 16-bit value");
            short v = data.get(ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), pos);
            pos += 2;
            return v;
        }

        int u32() {
            need(4, "a 32-bit value");
            int v = data.get(U32, pos);
            pos += 4;
            return v;
        }

        long u64() {
            need(8, "a 64-bit value");
            long v = data.get(U64, pos);
            pos += 8;
            return v;
        }

        String string(String what) {
            long len = u64();
            if (len < 0 || len > MAX_STRING_BYTES) {
                throw fail(what + " has length " + Long.toUnsignedString(len) + " (at most " + MAX_STRING_BYTES + " allowed)");
            }
            need(len, what);
            byte[] bytes = data.asSlice(pos, len).toArray(ValueLayout.JAVA_BYTE);
            pos += len;
            return new String(bytes, StandardCharsets.UTF_8);
        }

        MetadataValue value(ValueType type, String key, int depth) {
            return new MetadataValue(type, switch (type) {
                case UINT8, INT8 -> u8();
                case UINT16, INT16 -> u16();
                case UINT32, INT32 -> u32();
                case FLOAT32 -> Float.intBitsToFloat(u32());
                case BOOL -> {
                    byte b = u8();
                    if (b != 0 && b != 1) {
                        throw fail("metadata key '" + key + "' has boolean byte " + b);
                    }
                    yield b == 1;
                }
                case STRING -> string("value of metadata key '" + key + "'");
                case ARRAY -> array(key, depth);
                case UINT64, INT64 -> u64();
                case FLOAT64 -> Double.longBitsToDouble(u64());
            });
        }

        private MetadataValue.Array array(String key, int depth) {
            if (depth >= MAX_ARRAY_DEPTH) {
                throw fail("metadata key '" + key + "' nests arrays deeper than " + MAX_ARRAY_DEPTH);
            }
            long typeId = Integer.toUnsignedLong(u32());
            ValueType elem = ValueType.byId(typeId);
            if (elem == null) {
                throw fail("metadata key '" + key + "' is an array of unknown type " + typeId);
            }
            long count = u64();
            requireCount(count, elem.minBytes, "array length of metadata key '" + key + "'");
            if (count > Integer.MAX_VALUE - 8) {
                throw fail("metadata key '" + key + "' array length " + count + " is too large");
            }
            int n = (int) count;
            Object values = switch (elem) {
                case UINT8, INT8 -> {
                    byte[] a = data.asSlice(pos, n).toArray(ValueLayout.JAVA_BYTE);
                    pos += n;
                    yield a;
                }
                case UINT16, INT16 -> {
                    short[] a = new short[n];
                    for (int i = 0; i < n; i++) a[i] = u16();
                    yield a;
                }
                case UINT32, INT32 -> {
                    int[] a = new int[n];
                    for (int i = 0; i < n; i++) a[i] = u32();
                    yield a;
                }
                case FLOAT32 -> {
                    float[] a = new float[n];
                    for (int i = 0; i < n; i++) a[i] = Float.intBitsToFloat(u32());
                    yield a;
                }
                case BOOL -> {
                    boolean[] a = new boolean[n];
                    for (int i = 0; i < n; i++) a[i] = u8() != 0;
                    yield a;
                }
                case STRING -> {
                    String[] a = new String[n];
                    for (int i = 0; i < n; i++) a[i] = string("element " + i + " of metadata key '" + key + "'");
                    yield a;
                }
                case ARRAY -> {
                    MetadataValue.Array[] a = new MetadataValue.Array[n];
                    for (int i = 0; i < n; i++) a[i] = array(key, depth + 1);
                    yield a;
                }
                case UINT64, INT64 -> {
                    long[] a = new long[n];
                    for (int i = 0; i < n; i++) a[i] = u64();
                    yield a;
                }
                case FLOAT64 -> {
                    double[] a = new double[n];
                    for (int i = 0; i < n; i++) a[i] = Double.longBitsToDouble(u64());
                    yield a;
                }
            };
            return new MetadataValue.Array(elem, values);
        }
    }
}
