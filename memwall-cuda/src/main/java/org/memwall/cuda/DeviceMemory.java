package org.memwall.cuda;

import java.util.LinkedHashMap;
import java.util.Map;

/** The device allocations of one backend instance, so that closing it gives every byte back. */
final class DeviceMemory implements AutoCloseable {
    private final CudaDriver cu;
    private final Map<Long, Long> live = new LinkedHashMap<>();
    private long bytes;

    DeviceMemory(CudaDriver cu) {
        this.cu = cu;
    }

    synchronized long alloc(long size) {
        long p = cu.alloc(size);
        live.put(p, size);
        bytes += size;
        return p;
    }

    synchronized void free(long pointer) {
        Long size = live.remove(pointer);
        if (size != null) {
            bytes -= size;
            cu.free(pointer);
        }
    }

    synchronized long bytes() {
        return bytes;
    }

    @Override
    public synchronized void close() {
        for (long p : live.keySet()) {
            cu.free(p);
        }
        live.clear();
        bytes = 0;
    }
}
