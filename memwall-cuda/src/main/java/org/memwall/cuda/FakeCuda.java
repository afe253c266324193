package org.memwall.cuda;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The driver interface on the Java heap, for machines without a GPU: device memory is native memory
 * the Java code owns, each kernel launch runs {@link ReferenceKernels}' Java version of the kernel
 * (after checking its arguments and launch geometry against the interface in docs/gpu.md), streams
 * run in order at once, and graph capture records what is issued so that a replay runs it again.
 * Everything except the CUDA kernels themselves is exercised: memory planning, uploads, offsets, KV
 * indexing, batching, graph bookkeeping, error paths.
 */
public final class FakeCuda implements CudaDriver {
    private static final Pattern ENTRY = Pattern.compile("\\.entry\\s+([A-Za-z_][A-Za-z0-9_]*)\\s*\\(");

    private final long capacity;
    private final TreeMap<Long, Allocation> memory = new TreeMap<>();
    private final Map<Long, List<String>> modules = new HashMap<>();
    private final List<String> functions = new ArrayList<>();
    private final Map<Long, Long> events = new HashMap<>();
    private final Map<Long, List<Runnable>> graphs = new HashMap<>();
    private List<Runnable> capturing;
    private long capturingStream;
    private long nextHandle = 1;
    private long used;
    private long launches;
    private final Map<String, Long> byName = new HashMap<>();
    private final Map<String, java.util.function.BiConsumer<FakeCuda, KernelArgs>> faults = new HashMap<>();
    private boolean current;

    private record Allocation(Arena arena, MemorySegment segment) {
    }

    /** A fake device with {@code capacity} bytes of memory. */
    public FakeCuda(long capacity) {
        this.capacity = capacity;
    }

    /** Kernel launches so far (replayed graph nodes included). */
    public long launches() {
        return launches;
    }

    /**
     * Runs {@code body} after the reference whenever {@code kernel} is launched: a fault to inject,
     * for tests of what the host does when a device computes wrongly.
     */
    public void afterKernel(String kernel, java.util.function.BiConsumer<FakeCuda, KernelArgs> body) {
        faults.put(kernel, body);
    }

    /** Launches of the kernel called {@code name} so far (replayed graph nodes included). */
    public long launches(String name) {
        return byName.getOrDefault(name, 0L);
    }

    /** Bytes of device memory allocated now. */
    public long usedBytes() {
        return used;
    }

    @Override
    public int driverVersion() {
        return 13000;
    }

    @Override
    public int deviceCount() {
        return 1;
    }

    @Override
    public DeviceInfo device(int ordinal) {
        if (ordinal != 0) {
            throw new CudaException("CUDA error CUDA_ERROR_INVALID_DEVICE (101) in cuDeviceGet", 101);
        }
        return new DeviceInfo(0, "memwall FakeCuda", 9, 0, capacity, 4, 1_000_000, 256);
    }

    @Override
    public void makeCurrent(int ordinal) {
        device(ordinal);
        current = true;
    }

    private void requireContext(String call) {
        if (!current) {
            throw new CudaException("CUDA error CUDA_ERROR_INVALID_CONTEXT (201) in " + call, 201);
        }
    }

    @Override
    public long[] memoryInfo() {
        return new long[] {capacity - used, capacity};
    }

    @Override
    public long loadModule(String ptx) {
        requireContext("cuModuleLoadDataEx");
        List<String> names = new ArrayList<>();
        Matcher m = ENTRY.matcher(ptx);
        while (m.find()) {
            names.add(m.group(1));
        }
        if (names.isEmpty()) {
            throw new CudaException("the driver could not load memwall's kernels: CUDA_ERROR_INVALID_PTX (218)", 218);
        }
        long h = nextHandle++;
        modules.put(h, names);
        return h;
    }

    @Override
    public long function(long module, String name) {
        List<String> names = modules.get(module);
        if (names == null || !names.contains(name)) {
            throw new CudaException("CUDA error CUDA_ERROR_NOT_FOUND (500) in cuModuleGetFunction(" + name + ")", 500);
        }
        ReferenceKernels.of(name);
        functions.add(name);
        return functions.size();
    }

    @Override
    public long alloc(long bytes) {
        requireContext("cuMemAlloc_v2");
        long size = Math.max(bytes, 1);
        if (used + size > capacity) {
            throw new CudaException("out of GPU memory allocating " + bytes + " bytes", CudaException.OUT_OF_MEMORY);
        }
        Arena arena = Arena.ofShared();
        MemorySegment s = arena.allocate(size, 256);
        memory.put(s.address(), new Allocation(arena, s));
        used += size;
        return s.address();
    }

    @Override
    public void free(long devicePointer) {
        Allocation a = memory.remove(devicePointer);
        if (a == null) {
            throw new CudaException("CUDA error CUDA_ERROR_INVALID_VALUE (1) in cuMemFree_v2", 1);
        }
        used -= a.segment.byteSize();
        a.arena.close();
    }

    /** The device memory from {@code address} to the end of its allocation; a bad address is an illegal access. */
    public MemorySegment at(long address) {
        Map.Entry<Long, Allocation> e = memory.floorEntry(address);
        if (address == 0 || e == null || address - e.getKey() >= e.getValue().segment.byteSize()) {
            throw new CudaException("CUDA error CUDA_ERROR_ILLEGAL_ADDRESS (700): address 0x" + Long.toHexString(address) + " is not device memory", 700);
        }
        return e.getValue().segment.asSlice(address - e.getKey());
    }

    @Override
    public MemorySegment allocHost(long bytes) {
        return Arena.ofAuto().allocate(Math.max(bytes, 1), 256);
    }

    @Override
    public void freeHost(MemorySegment host) {
    }

    @Override
    public long createStream() {
        return nextHandle++;
    }

    @Override
    public void synchronize(long stream) {
    }

    private void issue(long stream, Runnable work) {
        if (capturing != null && stream == capturingStream) {
            capturing.add(work);
        } else {
            work.run();
        }
    }

    @Override
    public void copyToDevice(long dst, MemorySegment src, long bytes, long stream) {
        issue(stream, () -> MemorySegment.copy(src, 0, at(dst), 0, bytes));
    }

    @Override
    public void copyToHost(MemorySegment dst, long src, long bytes, long stream) {
        issue(stream, () -> MemorySegment.copy(at(src), 0, dst, 0, bytes));
    }

    @Override
    public void copyOnDevice(long dst, long src, long bytes, long stream) {
        issue(stream, () -> MemorySegment.copy(at(src), 0, at(dst), 0, bytes));
    }

    @Override
    public void fill32(long dst, int value, long count, long stream) {
        issue(stream, () -> {
            MemorySegment s = at(dst);
            for (long i = 0; i < count; i++) {
                s.setAtIndex(java.lang.foreign.ValueLayout.JAVA_INT, i, value);
            }
        });
    }

    @Override
    public void launch(long function, int gridX, int gridY, int gridZ, int blockX, int blockY, int blockZ, long stream, KernelArgs args) {
        requireContext("cuLaunchKernel");
        if (function < 1 || function > functions.size()) {
            throw new CudaException("CUDA error CUDA_ERROR_INVALID_HANDLE (400) in cuLaunchKernel", 400);
        }
        String name = functions.get((int) (function - 1));
        ReferenceKernels.Kernel kernel = ReferenceKernels.of(name);
        int[] grid = {gridX, gridY, gridZ};
        int[] block = {blockX, blockY, blockZ};
        kernel.check(name, args, grid, block);
        issue(stream, () -> {
            launches++;
            byName.merge(name, 1L, Long::sum);
            try {
                kernel.run(this, args);
                if (faults.containsKey(name)) {
                    faults.get(name).accept(this, args);
                }
            } catch (IndexOutOfBoundsException e) {
                throw new CudaException("CUDA error CUDA_ERROR_ILLEGAL_ADDRESS (700) in " + name + ": " + e.getMessage(), 700);
            }
        });
    }

    @Override
    public long createEvent() {
        long h = nextHandle++;
        events.put(h, 0L);
        return h;
    }

    @Override
    public void record(long event, long stream) {
        issue(stream, () -> events.put(event, System.nanoTime()));
    }

    @Override
    public void waitEvent(long event) {
    }

    @Override
    public float elapsedMillis(long start, long end) {
        return (events.get(end) - events.get(start)) / 1e6f;
    }

    @Override
    public void destroyEvent(long event) {
        events.remove(event);
    }

    @Override
    public void beginCapture(long stream) {
        if (capturing != null) {
            throw new CudaException("CUDA error CUDA_ERROR_ILLEGAL_STATE (401) in cuStreamBeginCapture_v2", 401);
        }
        capturing = new ArrayList<>();
        capturingStream = stream;
    }

    @Override
    public long endCapture(long stream) {
        if (capturing == null || stream != capturingStream) {
            throw new CudaException("CUDA error CUDA_ERROR_STREAM_CAPTURE_INVALIDATED (901) in cuStreamEndCapture", 901);
        }
        long h = nextHandle++;
        graphs.put(h, capturing);
        capturing = null;
        return h;
    }

    @Override
    public long instantiate(long graph) {
        List<Runnable> nodes = graphs.get(graph);
        if (nodes == null) {
            throw new CudaException("CUDA error CUDA_ERROR_INVALID_VALUE (1) in cuGraphInstantiateWithFlags", 1);
        }
        long h = nextHandle++;
        graphs.put(h, List.copyOf(nodes));
        return h;
    }

    @Override
    public void launchGraph(long executable, long stream) {
        List<Runnable> nodes = graphs.get(executable);
        if (nodes == null) {
            throw new CudaException("CUDA error CUDA_ERROR_INVALID_VALUE (1) in cuGraphLaunch", 1);
        }
        issue(stream, () -> nodes.forEach(Runnable::run));
    }

    @Override
    public void destroyGraph(long graph) {
        graphs.remove(graph);
    }

    @Override
    public void destroyGraphExec(long executable) {
        graphs.remove(executable);
    }
}
