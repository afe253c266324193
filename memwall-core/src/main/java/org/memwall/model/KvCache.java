package org.memwall.model;

/**
 * The keys and values of one sequence, held where its {@link ForwardPass} computes: on the Java heap
 * for the CPU ({@link HostKvCache}), in device memory for a GPU. Closing it gives its memory back;
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
     * what evaluating the prefix would have given.
     */
    void copyPrefix(KvCache from, int positions);

    /** Bytes currently allocated. */
    long allocatedBytes();

    @Override
    default void close() {
    }
}
