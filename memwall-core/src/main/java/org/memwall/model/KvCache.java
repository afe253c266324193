package org.memwall.model;

/**
 * The keys and values of one sequence, held where its {@link ForwardPass} computes: in host memory
 * for the CPU ({@link HostKvCache}, off the Java heap), in device memory for a GPU. Closing it gives its memory back;
 * a closed cache must not be used again.
 */
public interface KvCache extends AutoCloseable {

    /** Positions this cache can hold. */
    int capacity();

    /** Makes room for positions up to and including {@code position}, or fails naming the limit. */
    void reserve(int position);

    /**
     * Copies the keys and values of positions {@code 0..positions-1} from {@code from} (a cache of the
     * same forward pass) into this one, allocating what they need: a new sequence that starts with a
     * cached prefix then evaluates only the rest. The copy is exact, so what follows is bit-for-bit
     * what evaluating the prefix would have given. Returns {@code positions}, or 0 when {@code from}
     * can no longer resume there ({@link #canResumeAt}) and nothing was copied.
     */
    int copyPrefix(KvCache from, int positions);

    /**
     * Whether evaluation can continue at {@code position} with what this cache holds for the positions
     * before it. False once a sliding-window layer that keeps only a ring of recent positions has
     * overwritten the window that ends there (the sequence went on past it).
     */
    default boolean canResumeAt(int position) {
        return true;
    }

    /** Bytes currently allocated. */
    long allocatedBytes();

    @Override
    default void close() {
    }
}
