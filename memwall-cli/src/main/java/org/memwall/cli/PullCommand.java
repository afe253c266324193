package org.memwall.cli;

import java.util.concurrent.Callable;
import org.memwall.hub.HubRef;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "pull", description = "Download a GGUF model from the Hugging Face Hub into the shared Hugging Face cache; prints its path.")
final class PullCommand implements Callable<Integer> {
    @Parameters(paramLabel = "REF", description = "owner/repo (Q4_K_M, else the smallest), owner/repo:QUANT, owner/repo/file.gguf, hf.co/owner/repo:QUANT")
    String ref;

    @Option(names = "--verbose", description = "print stack traces on errors")
    boolean verbose;

    @Override
    public Integer call() {
        System.out.println(ModelSource.hub().pull(HubRef.parse(ref), new ProgressBar(System.err, System.console() != null)));
        return 0;
    }
}
