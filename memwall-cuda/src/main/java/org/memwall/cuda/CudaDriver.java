package org.memwall.cuda;

import java.lang.foreign.MemorySegment;

/**
 * The CUDA driver calls memwall makes, one method each. {@link NativeCuda} calls {@code libcuda.so.1}
 * through FFM; {@link FakeCuda} runs the same calls on the Java heap with reference kernels, so that
 * everything but the kernels themselves is tested on machines without a GPU.
 *
 * <p>Handles (contexts, modules, functions, streams, events, graphs) are opaque {@code long}s;
 * device pointers are device addresses. Every failure is a {@link CudaException} naming the call
 * and the driver's error. Calls act on the context made current on the calling thread by
 * {@link #makeCurrent}.
 */
public interface CudaDriver {

    /** The driver's CUDA version, e.g. 13000 for 13.0. */
    int driverVersion();

    int deviceCount();

    DeviceInfo device(int ordinal);

    /** Retains device {@code ordinal}'s primary context (once) and makes it current on this thread. */
    void makeCurrent(int ordinal);

    /** Free and total bytes of the current device. */
    long[] memoryInfo();

    /** Loads PTX text (JIT-compiled by the driver for the current device); returns the module. */
    long loadModule(String ptx);

    long function(long module, String name);

    long alloc(long bytes);

    void free(long devicePointer);

    /** Page-locked host memory, for copies that overlap with compute. */
    MemorySegment allocHost(long bytes);

    void freeHost(MemorySegment host);

    long createStream();

    void synchronize(long stream);

    void copyToDevice(long dst, MemorySegment src, long bytes, long stream);

    void copyToHost(MemorySegment dst, long src, long bytes, long stream);

    void copyOnDevice(long dst, long src, long bytes, long stream);

    /** Sets {@code count} 32-bit words at {@code dst} to {@code value}. */
    void fill32(long dst, int value, long count, long stream);

    void launch(long function, int gridX, int gridY, int gridZ, int blockX, int blockY, int blockZ, long stream, KernelArgs args);

    long createEvent();

    void record(long event, long stream);

    /** Blocks the calling thread until the work before {@code event}'s recording has finished. */
    void waitEvent(long event);

    /** Waits for {@code end} and returns the milliseconds between the two events. */
    float elapsedMillis(long start, long end);

    void destroyEvent(long event);

    /** Starts recording the work issued to {@code stream} (this thread only) instead of running it. */
    void beginCapture(long stream);

    /** Ends the recording; returns the graph of what was issued. */
    long endCapture(long stream);

    /** Makes a graph runnable; returns the executable graph. */
    long instantiate(long graph);

    void launchGraph(long executable, long stream);

    void destroyGraph(long graph);

    void destroyGraphExec(long executable);

    /** What a device is, as the driver reports it. */
    record DeviceInfo(int ordinal, String name, int major, int minor, long totalBytes, int multiprocessors,
                      int memoryClockKhz, int busWidthBits) {
        /** The memory's peak bandwidth from its clock and bus width (DDR: two transfers a clock), bytes/s. */
        public double peakBandwidth() {
            return 2.0 * memoryClockKhz * 1000.0 * busWidthBits / 8.0;
        }
    }
}
