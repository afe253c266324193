package org.memwall.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.memwall.hub.FakeHub;

/** pull, list, rm and -m REF against a Hub-shaped loopback server serving the built-in model's bytes. */
class PullCommandTest {
    @TempDir
    Path home;
    FakeHub hub;
    byte[] model;

    @BeforeEach
    void start() throws IOException {
        hub = new FakeHub();
        model = Files.readAllBytes(BuiltinModel.path());
        hub.repo("acme/stories-GGUF", Map.of("stories260K-F32.gguf", model, "stories260K-Q4_K_M.gguf", model), null);
        ModelSource.environment = Map.of("HF_HOME", home.toString(), "HF_ENDPOINT", hub.endpoint());
    }

    @AfterEach
    void stop() {
        hub.close();
        ModelSource.environment = System.getenv();
    }

    @Test
    void pullPrintsTheCachedPathAndListAndRmSeeIt() {
        Cli pull = Cli.run("pull", "hf.co/acme/stories-GGUF:F32");
        assertThat(pull.exitCode()).as(pull.err()).isZero();
        Path file = home.resolve("hub/models--acme--stories-GGUF/snapshots/" + FakeHub.COMMIT + "/stories260K-F32.gguf");
        assertThat(pull.out().strip()).isEqualTo(file.toString());
        assertThat(pull.err()).contains("memwall: downloading stories260K-F32.gguf (1.13 MiB)").contains("100%").contains("SHA-256 verified");

        Cli list = Cli.run("list");
        assertThat(list.exitCode()).isZero();
        assertThat(list.out()).isEqualTo("acme/stories-GGUF:F32  F32         1.13 MiB  " + file + "\n");

        Cli rm = Cli.run("rm", "acme/stories-GGUF");
        assertThat(rm.exitCode()).as(rm.err()).isZero();
        assertThat(rm.err().strip()).isEqualTo("memwall: removed acme/stories-GGUF (1 file) from " + home.resolve("hub"));
        assertThat(Cli.run("list").err()).contains("no models in " + home.resolve("hub"));
    }

    @Test
    void aModelReferencePullsOnFirstUseAndThenRunsFromTheCache() {
        Cli first = Cli.run("run", "-m", "acme/stories-GGUF", "-p", "Once upon a time", "-n", "8", "--temp", "0");
        assertThat(first.exitCode()).as(first.err()).isZero();
        assertThat(first.out()).isEqualTo(", there was a little girl");
        assertThat(first.err()).contains("downloading stories260K-Q4_K_M.gguf").contains("loaded stories260K-Q4_K_M.gguf");
        int requests = hub.log.size();
        Cli again = Cli.run("run", "-m", "acme/stories-GGUF", "-p", "Once upon a time", "-n", "8", "--temp", "0");
        assertThat(again.out()).isEqualTo(first.out());
        assertThat(again.err()).doesNotContain("downloading");
        assertThat(hub.log).as("the second run needs no network").hasSize(requests);
    }

    @Test
    void hubErrorsAreOneLine() {
        Cli r = Cli.run("pull", "acme/missing");
        assertThat(r.exitCode()).isEqualTo(1);
        assertThat(r.err().strip()).isEqualTo("memwall: no model acme/missing on 127.0.0.1 (or it is private: set HF_TOKEN) (HTTP 401)");
        Cli bad = Cli.run("pull", "not-a-ref");
        assertThat(bad.exitCode()).isEqualTo(1);
        assertThat(bad.err().strip()).startsWith("memwall: 'not-a-ref' is not a Hugging Face model reference");
        ModelSource.environment = Map.of("HF_HOME", home.toString(), "HF_HUB_OFFLINE", "1");
        Cli offline = Cli.run("run", "-m", "acme/stories-GGUF", "-p", "x");
        assertThat(offline.err().strip()).isEqualTo("memwall: HF_HUB_OFFLINE is set and acme/stories-GGUF is not in the cache " + home.resolve("hub") + "; pull it while online");
    }
}
