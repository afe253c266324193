package org.memwall.cli;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import org.memwall.MemwallException;
import org.memwall.model.KvCache;
import org.memwall.model.Model;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "logits", description = "Evaluate token ids from position 0 and write every position's logits "
        + "as little-endian float32, row-major [n_tokens][n_vocab].")
final class LogitsCommand implements Callable<Integer> {
    @Mixin
    DeviceOptions devices;

    @Mixin
    ModelOptions options;

    @Option(names = "--tokens", required = true, paramLabel = "FILE", description = "token ids, one per line")
    Path tokens;

    @Option(names = "--out", required = true, paramLabel = "FILE", description = "where to write the logits")
    Path out;

    @Option(names = "--sequential", description = "evaluate one token at a time instead of one batch")
    boolean sequential;

    @Override
    public Integer call() throws IOException {
        int[] ids = readIds(tokens);
        try (Model model = devices.open(options.modelFile(), options.threads)) {
            int vocab = model.weights().vocabularySize();
            if (ids.length > model.config().contextLength()) {
                throw new MemwallException(ids.length + " tokens exceed the model's context of " + model.config().contextLength());
            }
            KvCache cache = model.newCache(ids.length);
            try (OutputStream os = Files.newOutputStream(out)) {
                if (sequential) {
                    for (int i = 0; i < ids.length; i++) {
                        write(os, model.forwardPass().forward(new int[] {ids[i]}, new int[] {i}, new KvCache[] {cache}, new boolean[] {true}));
                    }
                } else {
                    write(os, model.forwardPass().forwardSequence(ids, 0, cache, true));
                }
            }
            System.err.printf("memwall: wrote %d x %d logits to %s%n", ids.length, vocab, out);
        }
        return 0;
    }

    static int[] readIds(Path file) throws IOException {
        List<String> lines;
        try {
            lines = Files.readAllLines(file);
        } catch (NoSuchFileException e) {
            throw new MemwallException("token file not found: " + file);
        }
        List<Integer> ids = new ArrayList<>();
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i).trim();
            if (line.isEmpty()) {
                continue;
            }
            try {
                ids.add(Integer.parseInt(line));
            } catch (NumberFormatException e) {
                throw new MemwallException(file + " line " + (i + 1) + ": '" + line + "' is not a token id");
            }
        }
        if (ids.isEmpty()) {
            throw new MemwallException(file + " holds no token ids");
        }
        return ids.stream().mapToInt(Integer::intValue).toArray();
    }

    private static void write(OutputStream os, float[] values) throws IOException {
        ByteBuffer buf = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        buf.asFloatBuffer().put(values);
        os.write(buf.array());
    }
}
