package org.memwall.cli;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.StringJoiner;
import java.util.concurrent.Callable;
import org.memwall.MemwallException;
import org.memwall.gguf.GgufFile;
import org.memwall.tokenizer.Tokenizer;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "tokenize", description = "Print the token ids of a text, space-separated on one line.")
final class TokenizeCommand implements Callable<Integer> {
    @Mixin
    ModelOptions options;

    @ArgGroup(exclusive = true, multiplicity = "1")
    Input input;

    static final class Input {
        @Option(names = "--text", paramLabel = "TEXT", description = "the text to tokenize")
        String text;

        @Option(names = {"-f", "--file"}, paramLabel = "FILE", description = "a file whose bytes are the UTF-8 text to tokenize")
        Path file;
    }

    @Option(names = "--add-special", description = "add BOS/EOS as the vocabulary asks")
    boolean addSpecial;

    @Option(names = "--parse-special", description = "turn special-token text such as <s> into its token")
    boolean parseSpecial;

    @Override
    public Integer call() throws IOException {
        String text = PromptText.of(input.text, input.file);
        try (GgufFile file = GgufFile.open(options.modelFile())) {
            Tokenizer tokenizer = Tokenizer.from(file.metadata());
            StringJoiner line = new StringJoiner(" ");
            for (int id : tokenizer.encode(text, addSpecial, parseSpecial)) {
                line.add(Integer.toString(id));
            }
            System.out.println(line);
        }
        return 0;
    }
}
