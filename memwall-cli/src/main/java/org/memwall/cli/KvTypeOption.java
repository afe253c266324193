package org.memwall.cli;

import org.memwall.model.KvType;
import picocli.CommandLine.Option;

/** {@code --kv-type}: how the CPU stores the KV cache, for the commands that evaluate a model or size its memory. */
final class KvTypeOption {
    @Option(names = "--kv-type", paramLabel = "TYPE", defaultValue = "${env:MEMWALL_KV_TYPE:-f16}",
            description = "KV cache element type on the CPU: f16, f32 or q8_0 (default ${DEFAULT-VALUE}; env MEMWALL_KV_TYPE; a GPU keeps its own)")
    String kvType;

    /** The chosen type, or a one-line error naming the choices. */
    KvType type() {
        return KvType.parse(kvType);
    }
}
