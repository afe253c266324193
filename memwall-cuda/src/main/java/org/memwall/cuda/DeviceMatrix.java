package org.memwall.cuda;

import org.memwall.gguf.GgmlType;

/**
 * A weight matrix in device memory, in a format with kernels: {@code rows} rows of {@code columns}
 * elements, {@code rowBytes} bytes each; expert tensors hold {@code experts} such matrices,
 * {@code expertBytes} apart.
 */
record DeviceMatrix(long address, GgmlType type, int columns, int rows, int experts, long rowBytes) {

    String suffix() {
        return ReferenceKernels.suffix(type);
    }

    long expertBytes() {
        return rowBytes * rows;
    }

    long byteSize() {
        return expertBytes() * experts;
    }
}
