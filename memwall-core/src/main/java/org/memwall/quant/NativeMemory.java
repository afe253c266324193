package org.memwall.quant;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;

/**
 * Off-heap memory that is not cleared first, for buffers their maker overwrites entirely (the interleaved copies).
 * {@code Arena.allocate} writes zeros over every byte on the calling thread, which for a model's copy is the
 * first touch of every page: on the machines we measure (virtual, slow to fault pages in) that cost one thread
 * 0.5–5 s per GB before the repacking started. The C library's {@code malloc} hands out pages untouched, so the
 * repacking threads fault them in as they write. Freed with the segment (when the garbage collector finds it
 * unreachable). Where the C library cannot be called (native access denied), it falls back to the arena.
 */
final class NativeMemory {
    private static final MethodHandle MALLOC;
    private static final MethodHandle FREE;

    static {
        MethodHandle malloc = null;
        MethodHandle free = null;
        try {
            Linker linker = Linker.nativeLinker();
            malloc = linker.downcallHandle(linker.defaultLookup().find("malloc").orElseThrow(),
                    FunctionDescriptor.of(ValueLayout.ADDRESS, ValueLayout.JAVA_LONG));
            free = linker.downcallHandle(linker.defaultLookup().find("free").orElseThrow(), FunctionDescriptor.ofVoid(ValueLayout.ADDRESS));
        } catch (RuntimeException | Error e) {
            malloc = null; // no C library to call, or native access denied: the arena serves
        }
        MALLOC = malloc;
        FREE = free;
    }

    private NativeMemory() {
    }

    /** {@code bytes} bytes aligned to {@code alignment} (a power of two), contents undefined. */
    static MemorySegment uninitialized(long bytes, long alignment) {
        if (MALLOC != null) {
            MemorySegment raw = malloc(bytes + alignment);
            if (raw.address() != 0) {
                long aligned = (raw.address() + alignment - 1) & -alignment;
                return MemorySegment.ofAddress(aligned).reinterpret(bytes, Arena.ofAuto(), s -> free(raw));
            }
        }
        return Arena.ofAuto().allocate(bytes, alignment);
    }

    private static MemorySegment malloc(long bytes) {
        try {
            return (MemorySegment) MALLOC.invokeExact(bytes);
        } catch (Throwable t) {
            return MemorySegment.NULL; // the arena serves
        }
    }

    private static void free(MemorySegment raw) {
        try {
            FREE.invokeExact(raw);
        } catch (Throwable t) {
            throw new IllegalStateException("free failed", t);
        }
    }
}
