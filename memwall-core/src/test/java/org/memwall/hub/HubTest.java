package org.memwall.hub;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.memwall.MemwallException;

/** Pulls from a Hub-shaped server over real loopback HTTP into a Hugging Face cache in a temporary folder. */
class HubTest {
    @TempDir
    Path home;
    FakeHub server;
    final byte[] q4 = random(200_000, 1);
    final byte[] q8 = random(300_000, 2);
    final List<String> notes = new ArrayList<>();
    final DownloadProgress progress = new DownloadProgress() {
        @Override
        public void note(String message) {
            notes.add(message);
        }

        @Override
        public void start(String file, long total, long already) {
            notes.add("start " + file + " " + total + " " + already);
        }

        @Override
        public void advance(long done) {
        }

        @Override
        public void finish() {
        }
    };

    @BeforeEach
    void start() throws IOException {
        server = new FakeHub();
        Map<String, byte[]> files = new LinkedHashMap<>();
        files.put("README.md", "# tiny".getBytes());
        files.put("tiny-Q8_0.gguf", q8);
        files.put("tiny-Q4_K_M.gguf", q4);
        files.put("mmproj-tiny-F16.gguf", random(1000, 3));
        server.repo("acme/tiny-GGUF", files, null);
    }

    @AfterEach
    void stop() {
        server.close();
    }

    Hub hub(String... env) {
        Map<String, String> map = new LinkedHashMap<>(Map.of("HF_HOME", home.toString(), "HF_ENDPOINT", server.endpoint()));
        for (int i = 0; i < env.length; i += 2) {
            map.put(env[i], env[i + 1]);
        }
        return Hub.fromEnvironment(map);
    }

    Path cacheRepo(String repo) {
        return home.resolve("hub/models--" + repo.replace("/", "--"));
    }

    @Test
    void pullsQ4KMByDefaultIntoTheHuggingFaceCacheLayout() throws IOException {
        Path p = hub().pull(HubRef.parse("acme/tiny-GGUF"), progress);
        Path repo = cacheRepo("acme/tiny-GGUF");
        assertThat(p).isEqualTo(repo.resolve("snapshots/" + FakeHub.COMMIT + "/tiny-Q4_K_M.gguf"));
        assertThat(Files.isSymbolicLink(p)).isTrue();
        assertThat(Files.readSymbolicLink(p).toString()).isEqualTo("../../blobs/" + FakeHub.sha256(q4));
        assertThat(Files.readAllBytes(p)).isEqualTo(q4);
        assertThat(Files.readString(repo.resolve("refs/main"))).isEqualTo(FakeHub.COMMIT);
        assertThat(server.log).contains("API /api/models/acme/tiny-GGUF/revision/main", "API /acme/tiny-GGUF/resolve/" + FakeHub.COMMIT + "/tiny-Q4_K_M.gguf",
                "CDN /blobs/" + FakeHub.sha256(q4));
        assertThat(repo.resolve("blobs")).isDirectoryContaining(f -> f.getFileName().toString().equals(FakeHub.sha256(q4)));
        try (var blobs = Files.list(repo.resolve("blobs"))) {
            assertThat(blobs.count()).as("only the chosen file is fetched").isEqualTo(1);
        }

        int before = server.log.size();
        assertThat(hub().pull(HubRef.parse("acme/tiny-GGUF"), progress)).isEqualTo(p);
        assertThat(server.log.subList(before, server.log.size())).as("a complete blob is not fetched again").noneMatch(l -> l.startsWith("CDN"));
    }

    @Test
    void everyReferenceFormNamesItsFile() {
        Path snapshot = cacheRepo("acme/tiny-GGUF").resolve("snapshots/" + FakeHub.COMMIT);
        assertThat(hub().pull(HubRef.parse("acme/tiny-GGUF:Q8_0"), progress)).isEqualTo(snapshot.resolve("tiny-Q8_0.gguf"));
        assertThat(hub().pull(HubRef.parse("acme/tiny-GGUF:q4_k_m"), progress)).isEqualTo(snapshot.resolve("tiny-Q4_K_M.gguf"));
        assertThat(hub().pull(HubRef.parse("hf.co/acme/tiny-GGUF:Q8_0"), progress)).isEqualTo(snapshot.resolve("tiny-Q8_0.gguf"));
        assertThat(hub().pull(HubRef.parse("acme/tiny-GGUF/tiny-Q8_0.gguf"), progress)).isEqualTo(snapshot.resolve("tiny-Q8_0.gguf"));
        assertThatThrownBy(() -> hub().pull(HubRef.parse("acme/tiny-GGUF:Q5_K_M"), progress))
                .hasMessage("acme/tiny-GGUF has no Q5_K_M file; it has Q8_0, Q4_K_M");
        assertThatThrownBy(() -> hub().pull(HubRef.parse("acme/tiny-GGUF/other.gguf"), progress))
                .hasMessage("no file other.gguf in acme/tiny-GGUF; its GGUF files: tiny-Q8_0.gguf, tiny-Q4_K_M.gguf");
    }

    @Test
    void withoutQ4KMTheSmallestIsPickedAndNamed() throws IOException {
        server.repo("acme/noq4", Map.of("m-Q8_0.gguf", q8, "m-Q6_K.gguf", q4), null);
        Path p = hub().pull(HubRef.parse("acme/noq4"), progress);
        assertThat(p.getFileName().toString()).isEqualTo("m-Q6_K.gguf");
        assertThat(notes).anyMatch(n -> n.startsWith("acme/noq4 has no Q4_K_M; picked Q6_K, the smallest (200000 bytes"));
    }

    @Test
    void aConnectionCutMidFileResumesWithARange() throws IOException {
        server.cutsLeft.set(1);
        Path p = hub().pull(HubRef.parse("acme/tiny-GGUF"), progress);
        assertThat(Files.readAllBytes(p)).isEqualTo(q4);
        // The server cuts after 100000 bytes; bytes in flight at the cut may be lost, so the resume point is at most that.
        String prefix = "CDN /blobs/" + FakeHub.sha256(q4) + " bytes=";
        String ranged = server.log.stream().filter(l -> l.startsWith(prefix)).findFirst().orElseThrow();
        long resumed = Long.parseLong(ranged.substring(prefix.length(), ranged.length() - 1));
        assertThat(resumed).isBetween(1L, 100_000L);
        assertThat(ranged).endsWith("-");
        assertThat(notes).anyMatch(n -> n.startsWith("connection lost") && n.endsWith("resuming at byte " + resumed));
    }

    @Test
    void aPullThatKeepsFailingLeavesThePartialFileForTheNextPull() throws IOException {
        server.cutsLeft.set(HubClient.ATTEMPTS);
        Path incomplete = cacheRepo("acme/tiny-GGUF").resolve("blobs/" + FakeHub.sha256(q4) + ".incomplete");
        assertThatThrownBy(() -> hub().pull(HubRef.parse("acme/tiny-GGUF"), progress)).isInstanceOf(MemwallException.class)
                .hasMessageContaining("failed 3 times").hasMessageContaining("kept in " + incomplete);
        long kept = Files.size(incomplete);
        // The server sends halves of what is left (100000, then 50000, then 25000) and cuts the connection; bytes
        // in flight at a cut may be lost with it, so up to 175000 arrive.
        assertThat(kept).isBetween(1L, 175_000L);
        assertThat(cacheRepo("acme/tiny-GGUF").resolve("snapshots")).doesNotExist();

        notes.clear();
        Path p = hub().pull(HubRef.parse("acme/tiny-GGUF"), progress);
        assertThat(Files.readAllBytes(p)).isEqualTo(q4);
        assertThat(notes).contains("start tiny-Q4_K_M.gguf 200000 " + kept);
        assertThat(server.log.getLast()).isEqualTo("CDN /blobs/" + FakeHub.sha256(q4) + " bytes=" + kept + "-");
        assertThat(incomplete).doesNotExist();
    }

    @Test
    void aWrongChecksumIsNeverUsed() {
        String wrong = "ab".repeat(32);
        server.publishWrongChecksum("acme/tiny-GGUF", "tiny-Q4_K_M.gguf", wrong);
        assertThatThrownBy(() -> hub().pull(HubRef.parse("acme/tiny-GGUF"), progress))
                .hasMessage("checksum mismatch for acme/tiny-GGUF/tiny-Q4_K_M.gguf: the Hub publishes SHA-256 " + wrong + ", the download has "
                        + FakeHub.sha256(q4) + "; it was deleted, run pull again");
        Path blobs = cacheRepo("acme/tiny-GGUF").resolve("blobs");
        assertThat(blobs.resolve(wrong)).doesNotExist();
        assertThat(blobs.resolve(wrong + ".incomplete")).doesNotExist();
        assertThat(cacheRepo("acme/tiny-GGUF").resolve("snapshots")).doesNotExist();
    }

    @Test
    void aGatedRepoNeedsTheTokenWhichNeverLeavesTheHubsHost() throws IOException {
        server.repo("acme/gated", Map.of("g-Q4_K_M.gguf", q4), "hf_secret");
        assertThatThrownBy(() -> hub().pull(HubRef.parse("acme/gated"), progress))
                .hasMessage("acme/gated is gated: accept its licence at " + server.endpoint() + "/acme/gated while logged in, then set HF_TOKEN to a token of that account (HTTP 401)");
        assertThatThrownBy(() -> hub("HF_TOKEN", "hf_wrong").pull(HubRef.parse("acme/gated"), progress))
                .hasMessageContaining("(the HF_TOKEN given has no access)");
        Path p = hub("HF_TOKEN", "hf_secret").pull(HubRef.parse("acme/gated"), progress);
        assertThat(Files.readAllBytes(p)).isEqualTo(q4);
        assertThat(server.log).contains("API /api/models/acme/gated/revision/main Bearer hf_secret");
        assertThat(server.log).filteredOn(l -> l.startsWith("CDN")).noneMatch(l -> l.contains("Bearer"));
    }

    @Test
    void aTokenFileInHfHomeIsUsed() throws IOException {
        server.repo("acme/gated", Map.of("g-Q4_K_M.gguf", q4), "hf_secret");
        Files.writeString(home.resolve("token"), "hf_secret\n");
        assertThat(Files.readAllBytes(hub().pull(HubRef.parse("acme/gated"), progress))).isEqualTo(q4);
    }

    @Test
    void unknownRepositoriesAndServersAreOneLine() {
        assertThatThrownBy(() -> hub().pull(HubRef.parse("acme/none"), progress))
                .hasMessage("no model acme/none on 127.0.0.1 (or it is private: set HF_TOKEN) (HTTP 401)");
        assertThatThrownBy(() -> hub("HF_ENDPOINT", "http://127.0.0.1:1").pull(HubRef.parse("acme/none"), progress))
                .hasMessageStartingWith("cannot reach http://127.0.0.1:1 (").hasMessageEndingWith("set HF_HUB_OFFLINE=1 to use the cache only");
        assertThatThrownBy(() -> hub("HF_ENDPOINT", "ftp://x").pull(HubRef.parse("acme/none"), progress))
                .hasMessage("HF_ENDPOINT 'ftp://x' is not an http(s) URL");
    }

    @Test
    void offlineModeUsesTheCacheAndNeverTheNetwork() {
        Path p = hub().pull(HubRef.parse("acme/tiny-GGUF"), progress);
        int before = server.log.size();
        assertThat(hub("HF_HUB_OFFLINE", "1").pull(HubRef.parse("acme/tiny-GGUF"), progress)).isEqualTo(p);
        assertThat(hub("HF_HUB_OFFLINE", "1").cached(HubRef.parse("acme/tiny-GGUF:Q4_K_M"))).isEqualTo(p);
        assertThat(hub("HF_HUB_OFFLINE", "1").cached(HubRef.parse("acme/tiny-GGUF:Q8_0"))).isNull();
        assertThatThrownBy(() -> hub("HF_HUB_OFFLINE", "1").pull(HubRef.parse("acme/tiny-GGUF:Q8_0"), progress))
                .hasMessage("HF_HUB_OFFLINE is set and acme/tiny-GGUF:Q8_0 is not in the cache " + home.resolve("hub") + "; pull it while online");
        assertThat(server.log).hasSize(before);
    }

    @Test
    void aSplitModelIsFetchedWhole() throws IOException {
        Map<String, byte[]> parts = new LinkedHashMap<>();
        for (int i = 1; i <= 3; i++) {
            parts.put("Q4_K_M/big-Q4_K_M-0000" + i + "-of-00003.gguf", random(50_000, 10 + i));
        }
        parts.put("big-Q8_0.gguf", q8);
        server.repo("acme/big", parts, null);
        Path p = hub().pull(HubRef.parse("acme/big"), progress);
        Path snapshot = cacheRepo("acme/big").resolve("snapshots/" + FakeHub.COMMIT);
        assertThat(p).isEqualTo(snapshot.resolve("Q4_K_M/big-Q4_K_M-00001-of-00003.gguf"));
        for (var e : parts.entrySet()) {
            if (e.getKey().startsWith("Q4_K_M/")) {
                assertThat(Files.readAllBytes(snapshot.resolve(e.getKey()))).isEqualTo(e.getValue());
                assertThat(Files.readSymbolicLink(snapshot.resolve(e.getKey())).toString()).startsWith("../../../blobs/");
            }
        }
        assertThat(hub().list()).extracting(Hub.CachedModel::ref, Hub.CachedModel::size).containsExactly(org.assertj.core.groups.Tuple.tuple("acme/big:Q4_K_M", 150_000L));
    }

    @Test
    void listAndRemoveWorkOnTheCache() {
        hub().pull(HubRef.parse("acme/tiny-GGUF"), progress);
        hub().pull(HubRef.parse("acme/tiny-GGUF:Q8_0"), progress);
        assertThat(hub().list()).extracting(Hub.CachedModel::ref, Hub.CachedModel::quantization, Hub.CachedModel::size).containsExactly(
                org.assertj.core.groups.Tuple.tuple("acme/tiny-GGUF:Q4_K_M", "Q4_K_M", 200_000L),
                org.assertj.core.groups.Tuple.tuple("acme/tiny-GGUF:Q8_0", "Q8_0", 300_000L));
        assertThat(hub().remove(HubRef.parse("acme/tiny-GGUF:Q8_0"))).isEqualTo(1);
        Path blobs = cacheRepo("acme/tiny-GGUF").resolve("blobs");
        assertThat(blobs.resolve(FakeHub.sha256(q8))).doesNotExist();
        assertThat(blobs.resolve(FakeHub.sha256(q4))).exists();
        assertThat(hub().list()).extracting(Hub.CachedModel::ref).containsExactly("acme/tiny-GGUF:Q4_K_M");
        assertThatThrownBy(() -> hub().remove(HubRef.parse("acme/tiny-GGUF:Q8_0"))).hasMessageStartingWith("acme/tiny-GGUF:Q8_0 is not in the cache");
        assertThat(hub().remove(HubRef.parse("acme/tiny-GGUF"))).isEqualTo(1);
        assertThat(cacheRepo("acme/tiny-GGUF")).doesNotExist();
        assertThat(hub().list()).isEmpty();
    }

    @Test
    void referencesParseInLlamaCppsAndOllamasForms() {
        assertThat(HubRef.parse("owner/repo")).isEqualTo(new HubRef("owner/repo", null, null));
        assertThat(HubRef.parse("owner/repo:Q8_0")).isEqualTo(new HubRef("owner/repo", "Q8_0", null));
        assertThat(HubRef.parse("hf.co/owner/repo:IQ4_XS")).isEqualTo(new HubRef("owner/repo", "IQ4_XS", null));
        assertThat(HubRef.parse("https://huggingface.co/owner/repo")).isEqualTo(new HubRef("owner/repo", null, null));
        assertThat(HubRef.parse("owner/repo/sub/m-Q4_0.gguf")).isEqualTo(new HubRef("owner/repo", null, "sub/m-Q4_0.gguf"));
        for (String bad : new String[] {"repo", "owner/", "/repo", "owner/repo:", "owner/repo/notes.txt", "owner/repo/../x.gguf", "o wner/repo"}) {
            assertThatThrownBy(() -> HubRef.parse(bad)).as(bad).isInstanceOf(MemwallException.class)
                    .hasMessage("'" + bad + "' is not a Hugging Face model reference; use owner/repo, owner/repo:QUANT (e.g. :Q4_K_M) or owner/repo/file.gguf");
        }
        assertThat(Quantizations.tagOf("Llama-3.2-1B-Instruct-Q4_K_M.gguf")).isEqualTo("Q4_K_M");
        assertThat(Quantizations.tagOf("gpt-oss-120b-mxfp4-00001-of-00003.gguf")).isEqualTo("MXFP4");
        assertThat(Quantizations.tagOf("qwen2.5-7b-instruct-iq4_xs.gguf")).isEqualTo("IQ4_XS");
        assertThat(Quantizations.tagOf("model.gguf")).isNull();
    }

    static byte[] random(int n, long seed) {
        byte[] b = new byte[n];
        new SplittableRandom(seed).nextBytes(b);
        return b;
    }
}
