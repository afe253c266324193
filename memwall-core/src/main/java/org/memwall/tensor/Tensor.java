package org.memwall.tensor;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import org.memwall.gguf.GgmlType;
import org.memwall.quant.Interleaved;
import org.memwall.quant.QuantFormat;

/**
 * A weight tensor: a type, a shape ({@code dims[0]} = row length) and its bytes, a view into the
 * memory-mapped model file. Rows are read in their stored format by the format's kernels, or, once
 * {@link #interleave} has made a row-interleaved copy for the CPU, from that copy.
 */
public final class Tensor {
    private final String name;
    private final GgmlType type;
    private final long[] dims;
    private final MemorySegment data;
    private final QuantFormat format;
    private final int rowLength;
    private final int rowCount;
    private Interleaved interleaved;
    /** Releases the pages of {@link #data} from memory once a copy is made (null: {@code unload} if it is mapped). */
    private final Runnable release;

    public Tensor(String name, GgmlType type, long[] dims, MemorySegment data) {
        this(name, type, dims, data, null);
    }

    /** {@code release}: drops {@code data}'s pages from memory after {@link #interleave} (the model file's, e.g.). */
    public Tensor(String name, GgmlType type, long[] dims, MemorySegment data, Runnable release) {
        this.release = release;
        this.name = name;
        this.type = type;
        this.dims = dims.clone();
        this.data = data;
        this.format = QuantFormat.of(type);
        long rows = 1;
        for (int i = 1; i < dims.length; i++) {
            rows *= dims[i];
        }
        this.rowLength = Math.toIntExact(dims[0]);
        this.rowCount = Math.toIntExact(rows);
    }

    public String name() {
        return name;
    }

    public GgmlType type() {
        return type;
    }

    public long[] dims() {
        return dims.clone();
    }

    public long dim(int i) {
        return i < dims.length ? dims[i] : 1;
    }

    public MemorySegment data() {
        return data;
    }

    public QuantFormat format() {
        return format;
    }

    /** Elements per row: the input width of a weight matrix. */
    public int rowLength() {
        return rowLength;
    }

    /** Rows: the output width of a weight matrix (times the expert count for 3-D expert tensors). */
    public int rowCount() {
        return rowCount;
    }

    public long byteSize() {
        return data.byteSize();
    }

    /** The row-interleaved copy the CPU multiplies with, or null (not made, or the format is kept as stored). */
    public Interleaved interleaved() {
        return interleaved;
    }

    /**
     * Makes the row-interleaved copy of this matrix when its format has one, repacking row groups on the
     * pool's threads, and returns the bytes it holds (0 when none was made). The file's pages of this
     * tensor are then released from memory ({@code unload}); rows read from the file later (embedding
     * lookups of a tied output matrix) page back in one at a time.
     */
    public long interleave(Parallel pool) {
        Interleaved il = Interleaved.allocate(type, rowCount, rowLength);
        if (il == null) {
            return 0;
        }
        pool.forChunks(il.groups(), 64, (from, to, thread) -> il.pack(data, from, to));
        interleaved = il;
        if (release != null) {
            release.run();
        } else if (data.isMapped()) {
            data.unload();
        }
        return il.byteSize();
    }

    /**
     * Takes {@code copy}, this matrix's interleaved copy made earlier (e.g. {@link Interleaved#over} bytes that
     * {@link #interleave} packed and were kept), as its copy; the file's rows are not read.
     */
    public void interleaved(Interleaved copy) {
        if (copy.rowLength() != rowLength || copy.groups() != (rowCount + Interleaved.ROWS - 1) / Interleaved.ROWS) {
            throw new IllegalArgumentException("a copy of another shape for " + this);
        }
        interleaved = copy;
    }

    public void dequantizeRow(int row, float[] out, int outOffset) {
        format.dequantize(data, (long) row * rowLength, out, outOffset, rowLength);
    }

    /** The whole tensor as floats (only for small tensors: norms, biases, sinks). */
    public float[] toFloats() {
        float[] out = new float[Math.multiplyExact(rowLength, rowCount)];
        format.dequantize(data, 0, out, 0, out.length);
        return out;
    }

    @Override
    public String toString() {
        return name + " " + type + " " + Arrays.toString(dims);
    }
}
