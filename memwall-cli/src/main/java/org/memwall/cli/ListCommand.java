package org.memwall.cli;

import java.util.List;
import java.util.concurrent.Callable;
import org.memwall.hub.Hub;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "list", description = "List the GGUF models in the Hugging Face cache: reference, quantization, size, file.")
final class ListCommand implements Callable<Integer> {
    @Option(names = "--verbose", description = "print stack traces on errors")
    boolean verbose;

    @Override
    public Integer call() {
        Hub hub = ModelSource.hub();
        List<Hub.CachedModel> models = hub.list();
        if (models.isEmpty()) {
            System.err.println("memwall: no models in " + hub.cache().root() + " (memwall pull owner/repo fetches one)");
            return 0;
        }
        int width = models.stream().mapToInt(m -> m.ref().length()).max().orElse(0);
        for (Hub.CachedModel m : models) {
            System.out.printf("%-" + width + "s  %-8s  %10s  %s%n", m.ref(), m.quantization() != null ? m.quantization() : "-", InfoCommand.bytes(m.size()), m.path());
        }
        return 0;
    }
}
