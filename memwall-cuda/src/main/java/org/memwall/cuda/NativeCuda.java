package org.memwall.cuda;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;

/**
 * The CUDA driver API ({@code libcuda.so.1}, installed with the NVIDIA driver) through FFM. Only the
 * driver is needed: no toolkit, no runtime library. Function names are the ABI names the driver
 * exports (the {@code _v2} entry points that {@code cuda.h} maps the plain names to).
 */
public final class NativeCuda implements CudaDriver {
    private static final Linker LINKER = Linker.nativeLinker();
    private static final int JIT_ERROR_LOG_BUFFER = 5;
    private static final int JIT_ERROR_LOG_BUFFER_SIZE_BYTES = 6;
    private static final int ATTR_MULTIPROCESSORS = 16;
    private static final int ATTR_MEMORY_CLOCK_KHZ = 36;
    private static final int ATTR_BUS_WIDTH = 37;
    private static final int ATTR_CC_MAJOR = 75;
    private static final int ATTR_CC_MINOR = 76;
    private static final int CAPTURE_MODE_THREAD_LOCAL = 1;

    private final SymbolLookup lib;
    private final Map<String, MethodHandle> handles = new HashMap<>();
    private final Map<Integer, Long> contexts = new HashMap<>();

    private NativeCuda(SymbolLookup lib) {
        this.lib = lib;
    }

    /**
     * Loads the driver and initialises it, or fails with one line saying why: no driver library
     * (no NVIDIA driver installed) or an initialisation error (no device, driver/kernel mismatch).
     */
    public static NativeCuda load() {
        SymbolLookup lib;
        try {
            lib = SymbolLookup.libraryLookup("libcuda.so.1", Arena.global());
        } catch (IllegalArgumentException e) {
            throw CudaException.noGpu("no NVIDIA driver: libcuda.so.1 was not found (install the NVIDIA driver to use a GPU)");
        }
        NativeCuda cuda = new NativeCuda(lib);
        cuda.check("cuInit", cuda.call("cuInit", FunctionDescriptor.of(JAVA_INT, JAVA_INT), 0));
        return cuda;
    }

    private MethodHandle handle(String name, FunctionDescriptor fd) {
        return handles.computeIfAbsent(name, n -> LINKER.downcallHandle(lib.find(n)
                .orElseThrow(() -> new CudaException("the NVIDIA driver lacks " + n + " (driver too old for memwall; see docs/gpu.md)", -1)), fd));
    }

    private int call(String name, FunctionDescriptor fd, Object... args) {
        try {
            return (int) handle(name, fd).invokeWithArguments(args);
        } catch (CudaException e) {
            throw e;
        } catch (Throwable t) {
            throw new CudaException("calling " + name + " failed: " + t, -1);
        }
    }

    /** Calls {@code name}, whose first parameter is a pointer-sized out-parameter, and returns what it wrote. */
    private long outPointer(String name, FunctionDescriptor fd, Object... rest) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment p = a.allocate(JAVA_LONG);
            Object[] args = new Object[rest.length + 1];
            args[0] = p;
            System.arraycopy(rest, 0, args, 1, rest.length);
            check(name, call(name, fd, args));
            return p.get(JAVA_LONG, 0);
        }
    }

    /** Calls {@code name}, whose first parameter is an {@code int} out-parameter, and returns what it wrote. */
    private int outInt(String name, FunctionDescriptor fd, Object... rest) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment p = a.allocate(JAVA_INT);
            Object[] args = new Object[rest.length + 1];
            args[0] = p;
            System.arraycopy(rest, 0, args, 1, rest.length);
            check(name, call(name, fd, args));
            return p.get(JAVA_INT, 0);
        }
    }

    private void check(String name, int result) {
        if (result != 0) {
            throw new CudaException("CUDA error " + errorName(result) + " (" + result + ") in " + name, result);
        }
    }

    private String errorName(int result) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment p = a.allocate(ADDRESS);
            int r = (int) handle("cuGetErrorName", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS)).invokeExact(result, p);
            if (r != 0) {
                return "CUDA_ERROR_" + result;
            }
            return p.get(ADDRESS, 0).reinterpret(256).getString(0, StandardCharsets.US_ASCII);
        } catch (Throwable t) {
            return "CUDA_ERROR_" + result;
        }
    }

    @Override
    public int driverVersion() {
        return outInt("cuDriverGetVersion", FunctionDescriptor.of(JAVA_INT, ADDRESS));
    }

    @Override
    public int deviceCount() {
        return outInt("cuDeviceGetCount", FunctionDescriptor.of(JAVA_INT, ADDRESS));
    }

    private int deviceHandle(int ordinal) {
        return outInt("cuDeviceGet", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT), ordinal);
    }

    private int attribute(int attribute, int dev) {
        return outInt("cuDeviceGetAttribute", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT), attribute, dev);
    }

    @Override
    public DeviceInfo device(int ordinal) {
        int dev = deviceHandle(ordinal);
        try (Arena a = Arena.ofConfined()) {
            MemorySegment name = a.allocate(256);
            check("cuDeviceGetName", call("cuDeviceGetName", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT), name, 256, dev));
            MemorySegment total = a.allocate(JAVA_LONG);
            check("cuDeviceTotalMem_v2", call("cuDeviceTotalMem_v2", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT), total, dev));
            return new DeviceInfo(ordinal, name.getString(0, StandardCharsets.UTF_8), attribute(ATTR_CC_MAJOR, dev), attribute(ATTR_CC_MINOR, dev),
                    total.get(JAVA_LONG, 0), attribute(ATTR_MULTIPROCESSORS, dev), attribute(ATTR_MEMORY_CLOCK_KHZ, dev), attribute(ATTR_BUS_WIDTH, dev));
        }
    }

    @Override
    public synchronized void makeCurrent(int ordinal) {
        Long ctx = contexts.get(ordinal);
        if (ctx == null) {
            int dev = deviceHandle(ordinal);
            ctx = outPointer("cuDevicePrimaryCtxRetain", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT), dev);
            contexts.put(ordinal, ctx);
        }
        check("cuCtxSetCurrent", call("cuCtxSetCurrent", FunctionDescriptor.of(JAVA_INT, ADDRESS), MemorySegment.ofAddress(ctx)));
    }

    @Override
    public long[] memoryInfo() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment free = a.allocate(JAVA_LONG);
            MemorySegment total = a.allocate(JAVA_LONG);
            check("cuMemGetInfo_v2", call("cuMemGetInfo_v2", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS), free, total));
            return new long[] {free.get(JAVA_LONG, 0), total.get(JAVA_LONG, 0)};
        }
    }

    @Override
    public long loadModule(String ptx) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment image = a.allocateFrom(ptx);
            int logSize = 16384;
            MemorySegment log = a.allocate(logSize);
            MemorySegment options = a.allocateFrom(JAVA_INT, JIT_ERROR_LOG_BUFFER, JIT_ERROR_LOG_BUFFER_SIZE_BYTES);
            MemorySegment values = a.allocate(ADDRESS, 2);
            values.setAtIndex(ADDRESS, 0, log);
            values.setAtIndex(ADDRESS, 1, MemorySegment.ofAddress(logSize));
            MemorySegment module = a.allocate(ADDRESS);
            int r = call("cuModuleLoadDataEx", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, JAVA_INT, ADDRESS, ADDRESS),
                    module, image, 2, options, values);
            if (r != 0) {
                String detail = log.getString(0, StandardCharsets.UTF_8).strip().replace('\n', ' ');
                throw new CudaException("the driver could not load memwall's kernels: " + errorName(r) + " (" + r + ")"
                        + (detail.isEmpty() ? "" : ": " + detail) + " (the driver may be older than the PTX needs; see docs/gpu.md)", r);
            }
            return module.get(ADDRESS, 0).address();
        }
    }

    @Override
    public long function(long module, String name) {
        try (Arena a = Arena.ofConfined()) {
            return outPointer("cuModuleGetFunction", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS),
                    MemorySegment.ofAddress(module), a.allocateFrom(name));
        }
    }

    @Override
    public long alloc(long bytes) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment p = a.allocate(JAVA_LONG);
            int r = call("cuMemAlloc_v2", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG), p, Math.max(bytes, 1));
            if (r == CudaException.OUT_OF_MEMORY) {
                throw new CudaException("out of GPU memory allocating " + bytes + " bytes", r);
            }
            check("cuMemAlloc_v2", r);
            return p.get(JAVA_LONG, 0);
        }
    }

    @Override
    public void free(long devicePointer) {
        check("cuMemFree_v2", call("cuMemFree_v2", FunctionDescriptor.of(JAVA_INT, JAVA_LONG), devicePointer));
    }

    @Override
    public MemorySegment allocHost(long bytes) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment p = a.allocate(ADDRESS);
            check("cuMemHostAlloc", call("cuMemHostAlloc", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT), p, bytes, 0));
            return p.get(ADDRESS, 0).reinterpret(bytes);
        }
    }

    @Override
    public void freeHost(MemorySegment host) {
        check("cuMemFreeHost", call("cuMemFreeHost", FunctionDescriptor.of(JAVA_INT, ADDRESS), host));
    }

    @Override
    public long createStream() {
        return outPointer("cuStreamCreate", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT), 1);
    }

    @Override
    public void synchronize(long stream) {
        check("cuStreamSynchronize", call("cuStreamSynchronize", FunctionDescriptor.of(JAVA_INT, ADDRESS), MemorySegment.ofAddress(stream)));
    }

    @Override
    public void copyToDevice(long dst, MemorySegment src, long bytes, long stream) {
        if (!src.isNative()) {
            // the driver takes no Java array (the linker refuses a heap segment): through a native buffer, copied
            // before the buffer is freed
            try (Arena a = Arena.ofConfined()) {
                MemorySegment staged = a.allocate(bytes, 64);
                MemorySegment.copy(src, 0, staged, 0, bytes);
                copyToDevice(dst, staged, bytes, stream);
                synchronize(stream);
            }
            return;
        }
        check("cuMemcpyHtoDAsync_v2", call("cuMemcpyHtoDAsync_v2", FunctionDescriptor.of(JAVA_INT, JAVA_LONG, ADDRESS, JAVA_LONG, ADDRESS),
                dst, src, bytes, MemorySegment.ofAddress(stream)));
    }

    @Override
    public void copyToHost(MemorySegment dst, long src, long bytes, long stream) {
        if (!dst.isNative()) {
            try (Arena a = Arena.ofConfined()) {
                MemorySegment staged = a.allocate(bytes, 64);
                copyToHost(staged, src, bytes, stream);
                synchronize(stream);
                MemorySegment.copy(staged, 0, dst, 0, bytes);
            }
            return;
        }
        check("cuMemcpyDtoHAsync_v2", call("cuMemcpyDtoHAsync_v2", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, JAVA_LONG, ADDRESS),
                dst, src, bytes, MemorySegment.ofAddress(stream)));
    }

    @Override
    public void copyOnDevice(long dst, long src, long bytes, long stream) {
        check("cuMemcpyDtoDAsync_v2", call("cuMemcpyDtoDAsync_v2", FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_LONG, JAVA_LONG, ADDRESS),
                dst, src, bytes, MemorySegment.ofAddress(stream)));
    }

    @Override
    public void fill32(long dst, int value, long count, long stream) {
        check("cuMemsetD32Async", call("cuMemsetD32Async", FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_INT, JAVA_LONG, ADDRESS),
                dst, value, count, MemorySegment.ofAddress(stream)));
    }

    private static final FunctionDescriptor LAUNCH = FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT, JAVA_INT,
            JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS, ADDRESS, ADDRESS);

    @Override
    public void launch(long function, int gridX, int gridY, int gridZ, int blockX, int blockY, int blockZ, long stream, KernelArgs args) {
        try (Arena a = Arena.ofConfined()) {
            int n = args.count();
            MemorySegment params = a.allocate(ADDRESS, Math.max(n, 1));
            for (int i = 0; i < n; i++) {
                MemorySegment value = a.allocate(8, 8);
                switch (args.kind(i)) {
                    case INT, FLOAT -> value.set(JAVA_INT, 0, (int) args.bits(i));
                    case POINTER, LONG, DOUBLE -> value.set(JAVA_LONG, 0, args.bits(i));
                }
                params.setAtIndex(ADDRESS, i, value);
            }
            int r = (int) handle("cuLaunchKernel", LAUNCH).invokeExact(MemorySegment.ofAddress(function), gridX, gridY, gridZ,
                    blockX, blockY, blockZ, 0, MemorySegment.ofAddress(stream), params, MemorySegment.NULL);
            check("cuLaunchKernel", r);
        } catch (CudaException e) {
            throw e;
        } catch (Throwable t) {
            throw new CudaException("cuLaunchKernel failed: " + t, -1);
        }
    }

    @Override
    public long createEvent() {
        return outPointer("cuEventCreate", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT), 0);
    }

    @Override
    public void record(long event, long stream) {
        check("cuEventRecord", call("cuEventRecord", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS),
                MemorySegment.ofAddress(event), MemorySegment.ofAddress(stream)));
    }

    @Override
    public void waitEvent(long event) {
        check("cuEventSynchronize", call("cuEventSynchronize", FunctionDescriptor.of(JAVA_INT, ADDRESS), MemorySegment.ofAddress(event)));
    }

    @Override
    public float elapsedMillis(long start, long end) {
        waitEvent(end);
        try (Arena a = Arena.ofConfined()) {
            MemorySegment ms = a.allocate(JAVA_FLOAT);
            String name = lib.find("cuEventElapsedTime_v2").isPresent() ? "cuEventElapsedTime_v2" : "cuEventElapsedTime";
            check(name, call(name, FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS), ms,
                    MemorySegment.ofAddress(start), MemorySegment.ofAddress(end)));
            return ms.get(JAVA_FLOAT, 0);
        }
    }

    @Override
    public void destroyEvent(long event) {
        check("cuEventDestroy_v2", call("cuEventDestroy_v2", FunctionDescriptor.of(JAVA_INT, ADDRESS), MemorySegment.ofAddress(event)));
    }

    @Override
    public void beginCapture(long stream) {
        check("cuStreamBeginCapture_v2", call("cuStreamBeginCapture_v2", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT),
                MemorySegment.ofAddress(stream), CAPTURE_MODE_THREAD_LOCAL));
    }

    @Override
    public long endCapture(long stream) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment p = a.allocate(JAVA_LONG);
            check("cuStreamEndCapture", call("cuStreamEndCapture", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS), MemorySegment.ofAddress(stream), p));
            return p.get(JAVA_LONG, 0);
        }
    }

    @Override
    public long instantiate(long graph) {
        return outPointer("cuGraphInstantiateWithFlags", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, JAVA_LONG), MemorySegment.ofAddress(graph), 0L);
    }

    @Override
    public void launchGraph(long executable, long stream) {
        check("cuGraphLaunch", call("cuGraphLaunch", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS),
                MemorySegment.ofAddress(executable), MemorySegment.ofAddress(stream)));
    }

    @Override
    public void destroyGraph(long graph) {
        check("cuGraphDestroy", call("cuGraphDestroy", FunctionDescriptor.of(JAVA_INT, ADDRESS), MemorySegment.ofAddress(graph)));
    }

    @Override
    public void destroyGraphExec(long executable) {
        check("cuGraphExecDestroy", call("cuGraphExecDestroy", FunctionDescriptor.of(JAVA_INT, ADDRESS), MemorySegment.ofAddress(executable)));
    }
}
