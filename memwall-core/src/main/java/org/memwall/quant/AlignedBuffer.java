package org.memwall.quant;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * A native float buffer per thread, aligned to 64 bytes (one cache line, one 512-bit vector), that grows
 * to the largest size asked of it and is then reused. The register tiles read from these: a vector load
 * from a Java float[] straddles two cache lines (its elements start 16 bytes into the object), one from
 * here never does. A buffer that is outgrown is freed by the garbage collector.
 */
public final class AlignedBuffer {
    private static final long ALIGNMENT = 64;

    private final ThreadLocal<MemorySegment> buffer = ThreadLocal.withInitial(() -> MemorySegment.NULL);

    /** This thread's buffer, at least {@code floats} long; its contents are whatever the thread left there. */
    public MemorySegment get(long floats) {
        MemorySegment b = buffer.get();
        long bytes = floats * Float.BYTES;
        if (b.byteSize() < bytes) {
            b = Arena.ofAuto().allocate(bytes, ALIGNMENT);
            buffer.set(b);
        }
        return b;
    }

    /** This thread's buffer holding a copy of {@code source[from .. from + floats)} at element 0. */
    public MemorySegment copyOf(float[] source, int from, int floats) {
        MemorySegment b = get(floats);
        MemorySegment.copy(source, from, b, ValueLayout.JAVA_FLOAT, 0, floats);
        return b;
    }
}
