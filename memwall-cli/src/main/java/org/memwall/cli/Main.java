package org.memwall.cli;

import java.io.PrintWriter;
import org.memwall.MemwallException;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The {@code memwall} command. Results go to stdout, diagnostics to stderr. A user-facing failure
 * prints one line, {@code memwall: <message>}, and exits 1; bad usage exits 2. Stack traces only
 * with {@code --verbose}.
 */
@Command(name = "memwall", mixinStandardHelpOptions = true, version = "memwall 0.1.0",
        description = "LLM inference for the JVM, built for the memory wall.",
        subcommands = {RunCommand.class, ChatCommand.class, ServeCommand.class, PullCommand.class, ListCommand.class, RmCommand.class, ChatTemplateCommand.class, LogitsCommand.class, TokenizeCommand.class, InfoCommand.class, BenchCommand.class, SynthCommand.class, PlanCommand.class})
public final class Main {
    static boolean verbose;

    public static void main(String[] args) {
        System.exit(execute(args));
    }

    static int execute(String... args) {
        for (String a : args) {
            if (a.equals("--verbose")) {
                verbose = true;
            }
        }
        CommandLine cli = new CommandLine(new Main());
        cli.setExecutionExceptionHandler((ex, cmd, parsed) -> {
            PrintWriter err = cmd.getErr();
            if (verbose) {
                ex.printStackTrace(err);
            }
            err.println("memwall: " + describe(ex));
            err.flush();
            return 1;
        });
        return cli.execute(args);
    }

    static String describe(Throwable ex) {
        if (ex instanceof MemwallException) {
            return ex.getMessage();
        }
        if (ex instanceof OutOfMemoryError) {
            return "out of memory (" + ex.getMessage() + "); give the JVM more heap with MEMWALL_HEAP=..., or use a smaller context";
        }
        if (ex instanceof java.io.IOException) {
            return "I/O error: " + ex.getMessage();
        }
        return ex.getClass().getSimpleName() + (ex.getMessage() == null ? "" : ": " + ex.getMessage()) + " (run with --verbose for details)";
    }
}
