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

    /** Bytes currently allocated. */
    long allocatedBytes();

    @Override
    default void close() {
    }
}
