package org.memwall.gguf;

import java.util.Arrays;

/**
 * One entry of the tensor directory. {@code dims[0]} is the contiguous row length; {@code offset} is
 * relative to the start of the data section; {@code byteSize} is derived from type and dims.
 */
public record TensorInfo(String name, GgmlType type, long[] dims, long offset, long byteSize) {

    public long elementCount() {
        long n = 1;
        for (long d : dims) {
            n = Math.multiplyExact(n, d);
        }
        return n;
    }

    /** Elements per row ({@code dims[0]}). */
    public long rowLength() {
        return dims[0];
    }

    /** Number of rows: the product of every dimension but the first. */
    public long rowCount() {
        return elementCount() / dims[0];
    }

    @Override
    public String toString() {
        return name + " " + type + " " + Arrays.toString(dims);
    }
}
