package org.memwall.fuzz;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.memwall.MemwallException;
import org.memwall.gguf.GgufFile;
import org.memwall.model.Model;

/**
 * Fuzzes the GGUF reader and model load: any bytes as a model file are opened, validated and, when
 * they pass, loaded as a model. Refusal is a {@link MemwallException}; anything else thrown, a hang
 * or an OOM is a finding. Seeds: a 16 KB synthesized llama and a header-only file, in
 * {@code GgufFuzzTestInputs/openAndLoad}.
 *
 * <p>Each input goes through a file, as a model does (the reader maps it). On a disk that file write
 * was most of an execution's time (0.6–1 ms of about 1.2 ms on a quiet machine, far more while other
 * builds write): the file lives in memory ({@code /dev/shm}) where there is one, same bytes, same path
 * through {@link GgufFile#open}.
 */
class GgufFuzzTest {
    private static Path file;

    @FuzzTest(maxDuration = "60s")
    void openAndLoad(byte[] data) throws IOException {
        if (file == null) {
            Path memory = Path.of("/dev/shm");
            file = Files.isDirectory(memory) && Files.isWritable(memory) ? Files.createTempFile(memory, "memwall-fuzz", ".gguf")
                    : Files.createTempFile("memwall-fuzz", ".gguf");
            file.toFile().deleteOnExit();
        }
        Files.write(file, data);
        try (GgufFile gguf = GgufFile.open(file)) {
            gguf.metadata().asMap().size();
        } catch (MemwallException e) {
            return;
        }
        try (Model model = Model.open(file, 1)) {
            model.config();
        } catch (MemwallException e) {
            // a clear refusal
        }
    }
}
