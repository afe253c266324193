package org.memwall.cuda;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.Supplier;
import org.memwall.MemwallException;
import org.memwall.model.ForwardPass;
import org.memwall.model.Model;

/**
 * Backend selection for {@code --device auto|cpu|cuda[:N]}: {@code auto} takes GPU 0 when a driver,
 * a GPU and enough free memory for the model exist, else the CPU, and says which; {@code cuda[:N]}
 * takes that GPU or fails with one line saying why; {@code cpu} never touches the driver.
 */
public final class Devices {
    private final Supplier<CudaDriver> driver;
    private CudaDriver loaded;

    /** Selection over the real driver ({@code libcuda.so.1}), loaded on first need. */
    public static Devices system() {
        return new Devices(NativeCuda::load);
    }

    public Devices(Supplier<CudaDriver> driver) {
        this.driver = driver;
    }

    private CudaDriver driver() {
        if (loaded == null) {
            loaded = driver.get();
        }
        return loaded;
    }

    /** A parsed {@code --device} value: the CPU, a GPU ordinal, or auto. */
    public record Spec(boolean auto, int ordinal) {
        static final Spec CPU = new Spec(false, -1);

        public boolean cpu() {
            return !auto && ordinal < 0;
        }

        public static Spec parse(String s) {
            String v = s == null ? "auto" : s.strip().toLowerCase(Locale.ROOT);
            if (v.equals("auto")) {
                return new Spec(true, 0);
            }
            if (v.equals("cpu")) {
                return CPU;
            }
            if (v.equals("cuda") || v.equals("gpu")) {
                return new Spec(false, 0);
            }
            if (v.startsWith("cuda:")) {
                try {
                    int n = Integer.parseInt(v.substring(5));
                    if (n >= 0) {
                        return new Spec(false, n);
                    }
                } catch (NumberFormatException e) {
                    // fall through to the error
                }
            }
            throw new MemwallException("unknown device '" + s + "' (use auto, cpu, cuda or cuda:N)");
        }
    }

    /**
     * The backend for {@code spec} as {@link Model#open(java.nio.file.Path, int, Function)} takes it:
     * null for the CPU, else a function that uploads the model to the GPU. Under auto, a machine with
     * no NVIDIA driver or GPU quietly gets the CPU (the commands name the device they run on); any
     * other reason a GPU cannot take the model becomes a notice, and the CPU.
     */
    public Function<Model, ForwardPass> backend(String spec, Consumer<String> notices) {
        Spec s = Spec.parse(spec);
        if (s.cpu()) {
            return null;
        }
        return model -> {
            try {
                CudaDriver cu = driver();
                int count = cu.deviceCount();
                if (count <= s.ordinal()) {
                    throw count == 0 ? CudaException.noGpu("no NVIDIA GPU found")
                            : new CudaException("no GPU cuda:" + s.ordinal() + " (" + count + " found: cuda:0" + (count > 1 ? "..cuda:" + (count - 1) : "") + ")", -1);
                }
                return CudaForward.load(cu, s.ordinal(), model, CudaForward.Options.defaults(notices));
            } catch (CudaException e) {
                if (!s.auto()) {
                    throw e;
                }
                if (!e.noGpu()) {
                    notices.accept("memwall: running on the CPU (" + e.getMessage() + ")");
                }
                return model.transformer();
            }
        };
    }

    /**
     * One line per GPU (name, compute capability, memory, measured device-to-device copy bandwidth),
     * or one line saying why there are none.
     */
    public List<String> describe() {
        List<String> lines = new ArrayList<>();
        CudaDriver cu;
        try {
            cu = driver();
        } catch (CudaException e) {
            lines.add("no GPUs: " + e.getMessage());
            return lines;
        }
        int count = cu.deviceCount();
        if (count == 0) {
            lines.add("no GPUs: the NVIDIA driver (CUDA " + version(cu.driverVersion()) + ") finds no device");
            return lines;
        }
        for (int i = 0; i < count; i++) {
            CudaDriver.DeviceInfo d = cu.device(i);
            cu.makeCurrent(i);
            long[] mem = cu.memoryInfo();
            lines.add(String.format(Locale.ROOT, "cuda:%d  %s  compute %d.%d  %d SMs  memory %.1f GiB (%.1f GiB free)  copy %.0f GB/s (peak %.0f GB/s)  driver CUDA %s",
                    i, d.name(), d.major(), d.minor(), d.multiprocessors(), d.totalBytes() / (double) (1L << 30), mem[0] / (double) (1L << 30),
                    copyBandwidth(cu, 256L << 20, 10) / 1e9, d.peakBandwidth() / 1e9, version(cu.driverVersion())));
        }
        return lines;
    }

    private static String version(int v) {
        return v / 1000 + "." + (v % 1000) / 10;
    }

    /**
     * Device-to-device copy bandwidth of the current device, bytes read plus written per second: the
     * median of {@code repeats} timed copies of {@code bytes}.
     */
    public static double copyBandwidth(CudaDriver cu, long bytes, int repeats) {
        long a = cu.alloc(bytes);
        long b = cu.alloc(bytes);
        long stream = cu.createStream();
        long start = cu.createEvent();
        long end = cu.createEvent();
        try {
            cu.fill32(a, 0x3f800000, bytes / 4, stream);
            cu.copyOnDevice(b, a, bytes, stream);
            double[] rates = new double[repeats];
            for (int r = 0; r < repeats; r++) {
                cu.record(start, stream);
                cu.copyOnDevice((r & 1) == 0 ? b : a, (r & 1) == 0 ? a : b, bytes, stream);
                cu.record(end, stream);
                float ms = cu.elapsedMillis(start, end);
                rates[r] = 2.0 * bytes / (Math.max(ms, 1e-6f) / 1e3);
            }
            java.util.Arrays.sort(rates);
            return rates[repeats / 2];
        } finally {
            cu.synchronize(stream);
            cu.destroyEvent(start);
            cu.destroyEvent(end);
            cu.free(a);
            cu.free(b);
        }
    }
}
