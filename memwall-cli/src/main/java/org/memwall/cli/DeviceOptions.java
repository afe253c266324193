package org.memwall.cli;

import java.nio.file.Path;
import org.memwall.cuda.Devices;
import org.memwall.model.KvType;
import org.memwall.model.Model;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code --device} and {@code --kv-type}: where the forward pass runs and how it caches, for the commands that evaluate a model. */
final class DeviceOptions {
    @Mixin
    KvTypeOption kv;

    @Option(names = "--device", paramLabel = "DEVICE", defaultValue = "${env:MEMWALL_DEVICE:-auto}",
            description = "auto (a GPU when one can hold the model, else the CPU), cpu, cuda or cuda:N (default ${DEFAULT-VALUE}; env MEMWALL_DEVICE)")
    String device;

    /** Opens {@code path} on the chosen device; notices (which device under auto, conversions) go to stderr. */
    Model open(Path path, int threads) {
        Devices.Spec.parse(device);
        KvType type = kv.type();
        return Model.open(path, threads, Devices.system().backend(device, System.err::println), type);
    }
}
