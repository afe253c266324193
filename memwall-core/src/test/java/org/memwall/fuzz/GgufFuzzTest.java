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
 * or an OOM is a finding. Seeds: a 5 KB synthesized llama and a header-only file, in
 * {@code GgufFuzzTestInputs/openAndLoad}.
 */
class GgufFuzzTest {
    private static Path file;

    @FuzzTest(maxDuration = "60s")
    void openAndLoad(byte[] data) throws IOException {
        if (file == null) {
            file = Files.createTempFile("memwall-fuzz", ".gguf");
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
