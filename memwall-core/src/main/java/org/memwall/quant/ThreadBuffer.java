package org.memwall.quant;

/**
 * A float buffer per thread that grows to the largest size asked of it and is then reused, so kernels
 * that need scratch space allocate nothing per call (the compute threads are long-lived).
 */
public final class ThreadBuffer {
    private final ThreadLocal<float[]> buffer = ThreadLocal.withInitial(() -> new float[0]);

    /** This thread's buffer, at least {@code floats} long; its contents are whatever the thread left there. */
    public float[] get(int floats) {
        float[] b = buffer.get();
        if (b.length < floats) {
            b = new float[floats];
            buffer.set(b);
        }
        return b;
    }
}
