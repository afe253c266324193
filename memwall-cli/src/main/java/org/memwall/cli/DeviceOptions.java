package org.memwall.cli;

import java.nio.file.Path;
import org.memwall.cuda.Devices;
import org.memwall.model.KvType;
import org.memwall.model.Model;
import org.memwall.model.RepackCache;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code --device} and {@code --kv-type}: where the forward pass runs and how it caches, for the commands that evaluate a model. */
final class DeviceOptions {
    @Mixin
    KvTypeOption kv;

    @Option(names = "--device", paramLabel = "DEVICE", defaultValue = "${env:MEMWALL_DEVICE:-auto}",
            description = "auto (a GPU when one can hold the model, else the CPU), cpu, cuda or cuda:N (default ${DEFAULT-VALUE}; env MEMWALL_DEVICE)")
    String device;

    /** {@code --repack-cache} given without a directory: the cache file goes next to the model. */
    private static final String BESIDE_MODEL = "\u0000beside";

    @Option(names = "--repack-cache", paramLabel = "DIR", arity = "0..1", fallbackValue = BESIDE_MODEL,
            defaultValue = "${env:MEMWALL_REPACK_CACHE}",
            description = "keep the CPU's repacked weights in a file (next to the model, or in DIR) and map them on the next "
                    + "load instead of repacking: loads several times faster, at about the model's size on disk "
                    + "(default off; env MEMWALL_REPACK_CACHE=DIR)")
    String repackCache;

    /** Opens {@code path} on the chosen device; notices (which device under auto, conversions, the repack cache) go to stderr. */
    Model open(Path path, int threads) {
        Devices.Spec.parse(device);
        KvType type = kv.type();
        return Model.open(path, threads, Devices.system().backend(device, System.err::println), type, repackCache(path));
    }

    /** The repack cache for {@code model}, or null when none was asked for. */
    RepackCache repackCache(Path model) {
        if (repackCache == null || repackCache.isBlank()) {
            return null;
        }
        return repackCache.equals(BESIDE_MODEL) ? RepackCache.beside(model, System.err::println)
                : RepackCache.in(Path.of(repackCache), model, System.err::println);
    }
}
