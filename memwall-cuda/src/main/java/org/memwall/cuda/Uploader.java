package org.memwall.cuda;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import java.util.Set;
import java.util.TreeSet;
import org.memwall.gguf.GgmlType;
import org.memwall.quant.Quantizer;
import org.memwall.tensor.Tensor;

/**
 * Copies weights from the memory-mapped file to the device through two page-locked staging buffers
 * used in turn (the next chunk is copied into one while the other transfers), so no tensor is ever
 * copied whole into the Java heap. Tensors of a type with no kernel are converted row by row to
 * Q8_0 on the way.
 */
final class Uploader implements AutoCloseable {
    static final long CHUNK = 32L << 20;

    private final CudaDriver cu;
    private final DeviceMemory memory;
    private final long stream;
    private final MemorySegment[] staging = new MemorySegment[2];
    private final long[] done = new long[2];
    private final boolean[] busy = new boolean[2];
    private final Set<String> converted = new TreeSet<>();
    private int turn;
    private long uploaded;

    Uploader(CudaDriver cu, DeviceMemory memory, long stream) {
        this.cu = cu;
        this.memory = memory;
        this.stream = stream;
        for (int i = 0; i < 2; i++) {
            staging[i] = cu.allocHost(CHUNK);
            done[i] = cu.createEvent();
        }
    }

    /** Types converted to Q8_0 so far, for the one-line notice. */
    Set<String> converted() {
        return converted;
    }

    long uploadedBytes() {
        return uploaded;
    }

    /** The type a tensor of {@code type} has on the device. */
    static GgmlType deviceType(GgmlType type) {
        return ReferenceKernels.suffix(type) != null ? type : GgmlType.Q8_0;
    }

    /** Uploads a weight matrix (or a 3-D expert tensor) as a {@link DeviceMatrix}. */
    DeviceMatrix matrix(Tensor t) {
        int columns = t.rowLength();
        int experts = Math.toIntExact(t.dims().length > 2 ? t.dim(2) : 1);
        int rows = t.rowCount() / experts;
        GgmlType type = deviceType(t.type());
        long rowBytes = type.bytesFor(columns);
        long address = memory.alloc(rowBytes * t.rowCount());
        if (type == t.type()) {
            copy(t.data(), address);
        } else {
            converted.add(t.type().name());
            convert(t, rowBytes, address);
        }
        return new DeviceMatrix(address, type, columns, rows, experts, rowBytes);
    }

    /** Uploads floats (norms, biases); null stays null (a null pointer). */
    long floats(float[] v) {
        if (v == null) {
            return 0;
        }
        return copy(MemorySegment.ofArray(v), memory.alloc(v.length * 4L));
    }

    long doubles(double[] v) {
        return copy(MemorySegment.ofArray(v), memory.alloc(v.length * 8L));
    }

    private MemorySegment nextStaging() {
        int i = turn;
        if (busy[i]) {
            cu.waitEvent(done[i]);
        }
        return staging[i];
    }

    private void send(long dst, long bytes) {
        int i = turn;
        cu.copyToDevice(dst, staging[i], bytes, stream);
        cu.record(done[i], stream);
        busy[i] = true;
        turn ^= 1;
        uploaded += bytes;
    }

    private long copy(MemorySegment src, long address) {
        long size = src.byteSize();
        for (long off = 0; off < size; off += CHUNK) {
            long n = Math.min(CHUNK, size - off);
            MemorySegment buf = nextStaging();
            MemorySegment.copy(src, off, buf, 0, n);
            send(address + off, n);
        }
        return address;
    }

    private void convert(Tensor t, long rowBytes, long address) {
        int columns = t.rowLength();
        long rowsPerChunk = Math.max(1, CHUNK / rowBytes);
        float[] row = new float[columns];
        int total = t.rowCount();
        for (int r0 = 0; r0 < total; r0 += (int) rowsPerChunk) {
            int rows = (int) Math.min(rowsPerChunk, total - r0);
            MemorySegment buf = nextStaging();
            java.nio.ByteBuffer out = buf.asSlice(0, rows * rowBytes).asByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
            for (int r = 0; r < rows; r++) {
                t.dequantizeRow(r0 + r, row, 0);
                Quantizer.quantize(GgmlType.Q8_0, row, 0, columns, out);
            }
            send(address + r0 * rowBytes, rows * rowBytes);
        }
    }

    /** Waits for every copy issued so far. */
    void finish() {
        cu.synchronize(stream);
        busy[0] = busy[1] = false;
    }

    @Override
    public void close() {
        finish();
        for (int i = 0; i < 2; i++) {
            cu.freeHost(staging[i]);
            cu.destroyEvent(done[i]);
        }
    }
}
