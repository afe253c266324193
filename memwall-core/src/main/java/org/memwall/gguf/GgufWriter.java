package org.memwall.gguf;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.memwall.MemwallException;

/**
 * Writes a GGUF v3 file: metadata, tensor directory, aligned tensor data. Tensor bytes are supplied
 * lazily by a {@link TensorSource}, written one tensor at a time, so a multi-gigabyte model never
 * has to sit in memory.
 */
public final class GgufWriter {
    /** Produces a tensor's bytes into the channel, exactly {@code byteSize} of them. */
    @FunctionalInterface
    public interface TensorSource {
        void write(WritableSink sink) throws IOException;
    }

    /** Where a {@link TensorSource} writes. */
    @FunctionalInterface
    public interface WritableSink {
        void write(ByteBuffer bytes) throws IOException;
    }

    private record PendingTensor(String name, GgmlType type, long[] dims, long byteSize, TensorSource source) {
    }

    private final Map<String, MetadataValue> metadata = new LinkedHashMap<>();
    private final List<PendingTensor> tensors = new ArrayList<>();

    public GgufWriter put(String key, MetadataValue value) {
        metadata.put(key, value);
        return this;
    }

    public GgufWriter putString(String key, String value) {
        return put(key, new MetadataValue(ValueType.STRING, value));
    }

    public GgufWriter putU32(String key, int value) {
        return put(key, new MetadataValue(ValueType.UINT32, value));
    }

    public GgufWriter putI32(String key, int value) {
        return put(key, new MetadataValue(ValueType.INT32, value));
    }

    public GgufWriter putU64(String key, long value) {
        return put(key, new MetadataValue(ValueType.UINT64, value));
    }

    public GgufWriter putF32(String key, float value) {
        return put(key, new MetadataValue(ValueType.FLOAT32, value));
    }

    public GgufWriter putBool(String key, boolean value) {
        return put(key, new MetadataValue(ValueType.BOOL, value));
    }

    public GgufWriter putArray(String key, ValueType elementType, Object values) {
        return put(key, new MetadataValue(ValueType.ARRAY, new MetadataValue.Array(elementType, values)));
    }

    /** The metadata put so far, as a reader of the written file would see it. */
    public GgufMetadata metadata() {
        return new GgufMetadata(metadata);
    }

    /** Adds a tensor whose bytes are given now. */
    public GgufWriter addTensor(String name, GgmlType type, long[] dims, byte[] data) {
        return addTensor(name, type, dims, sink -> sink.write(ByteBuffer.wrap(data)));
    }

    /** Adds a tensor whose bytes are produced when the file is written. */
    public GgufWriter addTensor(String name, GgmlType type, long[] dims, TensorSource source) {
        long elements = 1;
        for (long d : dims) {
            elements = Math.multiplyExact(elements, d);
        }
        tensors.add(new PendingTensor(name, type, dims.clone(), type.bytesFor(elements), source));
        return this;
    }

    public void write(Path path) throws IOException {
        int alignment = GgufFile.DEFAULT_ALIGNMENT;
        MetadataValue a = metadata.get("general.alignment");
        if (a != null) {
            long v = a.asLong();
            if (v <= 0 || v > GgufFile.MAX_ALIGNMENT || Long.bitCount(v) != 1) {
                throw new IllegalArgumentException("general.alignment must be a power of two up to " + GgufFile.MAX_ALIGNMENT + ", got " + v);
            }
            alignment = (int) v;
        }
        ByteBuffer header = headerBytes(alignment);
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
            writeFully(ch, header);
            for (PendingTensor t : tensors) {
                long start = ch.position();
                t.source().write(b -> writeFully(ch, b));
                long written = ch.position() - start;
                if (written != t.byteSize()) {
                    throw new MemwallException("tensor '" + t.name() + "' wrote " + written + " bytes, expected " + t.byteSize());
                }
                pad(ch, alignment);
            }
        }
    }

    private ByteBuffer headerBytes(int alignment) {
        Buffer b = new Buffer();
        b.u32(GgufFile.MAGIC);
        b.u32(3);
        b.u64(tensors.size());
        b.u64(metadata.size());
        for (Map.Entry<String, MetadataValue> e : metadata.entrySet()) {
            b.string(e.getKey());
            b.u32(e.getValue().type().id);
            b.value(e.getValue().type(), e.getValue().value());
        }
        long offset = 0;
        for (PendingTensor t : tensors) {
            b.string(t.name());
            b.u32(t.dims().length);
            for (long d : t.dims()) {
                b.u64(d);
            }
            b.u32(t.type().id);
            b.u64(offset);
            offset = GgufFile.alignUp(offset + t.byteSize(), alignment);
        }
        while (b.size() % alignment != 0) {
            b.u8((byte) 0);
        }
        return b.toByteBuffer();
    }

    private static void writeFully(FileChannel ch, ByteBuffer b) throws IOException {
        while (b.hasRemaining()) {
            ch.write(b);
        }
    }

    private static void pad(FileChannel ch, int alignment) throws IOException {
        long pos = ch.position();
        int padding = (int) (GgufFile.alignUp(pos, alignment) - pos);
        if (padding > 0) {
            writeFully(ch, ByteBuffer.allocate(padding));
        }
    }

    /** A growable little-endian byte buffer for the header. */
    private static final class Buffer {
        private ByteBuffer buf = ByteBuffer.allocate(1 << 16).order(ByteOrder.LITTLE_ENDIAN);

        private void ensure(int n) {
            if (buf.remaining() < n) {
                ByteBuffer bigger = ByteBuffer.allocate(Math.max(buf.capacity() * 2, buf.position() + n)).order(ByteOrder.LITTLE_ENDIAN);
                buf.flip();
                bigger.put(buf);
                buf = bigger;
            }
        }

        int size() {
            return buf.position();
        }

        void u8(byte v) {
            ensure(1);
            buf.put(v);
        }

        void u16(short v) {
            ensure(2);
            buf.putShort(v);
        }

        void u32(int v) {
            ensure(4);
            buf.putInt(v);
        }

        void u64(long v) {
            ensure(8);
            buf.putLong(v);
        }

        void string(String s) {
            byte[] bytes = s.getBytes(StandardCharsets.UTF_8);
            u64(bytes.length);
            ensure(bytes.length);
            buf.put(bytes);
        }

        void value(ValueType type, Object v) {
            switch (type) {
                case UINT8, INT8 -> u8((Byte) v);
                case UINT16, INT16 -> u16((Short) v);
                case UINT32, INT32 -> u32((Integer) v);
                case FLOAT32 -> u32(Float.floatToRawIntBits((Float) v));
                case BOOL -> u8((byte) ((Boolean) v ? 1 : 0));
                case STRING -> string((String) v);
                case UINT64, INT64 -> u64((Long) v);
                case FLOAT64 -> u64(Double.doubleToRawLongBits((Double) v));
                case ARRAY -> array((MetadataValue.Array) v);
            }
        }

        void array(MetadataValue.Array a) {
            u32(a.elementType().id);
            u64(a.length());
            switch (a.values()) {
                case byte[] x -> {
                    for (byte e : x) u8(e);
                }
                case short[] x -> {
                    for (short e : x) u16(e);
                }
                case int[] x -> {
                    for (int e : x) u32(e);
                }
                case long[] x -> {
                    for (long e : x) u64(e);
                }
                case float[] x -> {
                    for (float e : x) u32(Float.floatToRawIntBits(e));
                }
                case double[] x -> {
                    for (double e : x) u64(Double.doubleToRawLongBits(e));
                }
                case boolean[] x -> {
                    for (boolean e : x) u8((byte) (e ? 1 : 0));
                }
                case String[] x -> {
                    for (String e : x) string(e);
                }
                case MetadataValue.Array[] x -> {
                    for (MetadataValue.Array e : x) array(e);
                }
                default -> throw new IllegalArgumentException("not a GGUF array: " + a.values());
            }
        }

        ByteBuffer toByteBuffer() {
            ByteBuffer out = buf.duplicate();
            out.flip();
            return out;
        }
    }
}
