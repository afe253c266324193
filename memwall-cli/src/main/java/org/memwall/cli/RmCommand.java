package org.memwall.cli;

import java.util.concurrent.Callable;
import org.memwall.hub.Hub;
import org.memwall.hub.HubRef;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "rm", description = "Remove a model from the Hugging Face cache: owner/repo removes all of it, owner/repo:QUANT one quantization.")
final class RmCommand implements Callable<Integer> {
    @Parameters(paramLabel = "REF", description = "owner/repo, owner/repo:QUANT or owner/repo/file.gguf")
    String ref;

    @Option(names = "--verbose", description = "print stack traces on errors")
    boolean verbose;

    @Override
    public Integer call() {
        Hub hub = ModelSource.hub();
        HubRef r = HubRef.parse(ref);
        int n = hub.remove(r);
        System.err.println("memwall: removed " + r + " (" + n + (n == 1 ? " file" : " files") + ") from " + hub.cache().root());
        return 0;
    }
}
