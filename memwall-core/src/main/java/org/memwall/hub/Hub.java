package org.memwall.hub;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.memwall.MemwallException;
import org.memwall.gguf.GgufSplit;

/**
 * Models from the Hugging Face Hub, kept in the shared Hugging Face cache. Configured like
 * {@code huggingface_hub}: {@code HF_ENDPOINT} (a mirror; default https://huggingface.co),
 * {@code HF_TOKEN} (else the token file {@code HF_HOME/token}), {@code HF_HUB_OFFLINE=1} (the cache
 * only), {@code HF_HOME} / {@code HF_HUB_CACHE} (where the cache lives).
 */
public final class Hub {
    static final String REVISION = "main";

    private final HubCache cache;
    private final HubClient client;
    private final boolean offline;
    private final long memoryBytes;

    Hub(HubCache cache, HubClient client, boolean offline, long memoryBytes) {
        this.cache = cache;
        this.client = client;
        this.offline = offline;
        this.memoryBytes = memoryBytes;
    }

    public static Hub fromEnvironment(Map<String, String> env) {
        HubCache cache = HubCache.fromEnvironment(env);
        String endpoint = env.getOrDefault("HF_ENDPOINT", "");
        URI uri;
        try {
            uri = URI.create(endpoint.isBlank() ? "https://huggingface.co" : endpoint.strip());
        } catch (IllegalArgumentException e) {
            throw new MemwallException("HF_ENDPOINT '" + endpoint + "' is not a URL");
        }
        if (uri.getScheme() == null || uri.getHost() == null || !(uri.getScheme().equals("http") || uri.getScheme().equals("https"))) {
            throw new MemwallException("HF_ENDPOINT '" + endpoint + "' is not an http(s) URL");
        }
        String offline = env.getOrDefault("HF_HUB_OFFLINE", "").strip().toLowerCase(Locale.ROOT);
        return new Hub(cache, new HubClient(uri, token(env, cache)), List.of("1", "true", "yes", "on").contains(offline), physicalMemory());
    }

    private static String token(Map<String, String> env, HubCache cache) {
        for (String key : new String[] {"HF_TOKEN", "HUGGING_FACE_HUB_TOKEN"}) {
            String t = env.get(key);
            if (t != null && !t.isBlank()) {
                return t.strip();
            }
        }
        Path file = env.get("HF_TOKEN_PATH") != null ? Path.of(env.get("HF_TOKEN_PATH")) : cache.root().getParent().resolve("token");
        try {
            return Files.isRegularFile(file) ? Files.readString(file).strip() : null;
        } catch (IOException e) {
            return null;
        }
    }

    private static long physicalMemory() {
        return ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os ? os.getTotalMemorySize() : Long.MAX_VALUE;
    }

    public HubCache cache() {
        return cache;
    }

    public boolean offline() {
        return offline;
    }

    /** The local first file of the model {@code ref} names, if the cache holds all of it; else null. */
    public Path cached(HubRef ref) {
        String commit = cache.commitOf(ref.repo(), REVISION);
        if (commit == null) {
            return null;
        }
        List<RepoFile> files = new ArrayList<>();
        for (HubCache.CachedFile f : cache.files()) {
            if (f.repo().equals(ref.repo()) && f.commit().equals(commit)) {
                files.add(new RepoFile(f.file(), f.size(), null));
            }
        }
        try {
            Quantizations.Choice c = Quantizations.select(ref, files, Long.MAX_VALUE, note -> { });
            return cache.snapshot(ref.repo(), commit).resolve(c.first().path());
        } catch (MemwallException e) {
            return null;
        }
    }

    /** Downloads what {@code ref} names (or finds it complete in the cache) and returns its first file. */
    public Path pull(HubRef ref, DownloadProgress progress) {
        if (offline) {
            Path p = cached(ref);
            if (p == null) {
                throw new MemwallException("HF_HUB_OFFLINE is set and " + ref + " is not in the cache " + cache.root() + "; pull it while online");
            }
            return p;
        }
        HubClient.Snapshot snapshot = client.snapshot(ref.repo(), REVISION);
        Quantizations.Choice choice = Quantizations.select(ref, snapshot.files(), memoryBytes, progress::note);
        try {
            for (RepoFile f : choice.files()) {
                client.download(cache, ref.repo(), snapshot.commit(), f, progress);
                cache.link(ref.repo(), snapshot.commit(), f.path(), f.sha256());
            }
            cache.writeRef(ref.repo(), REVISION, snapshot.commit());
        } catch (IOException e) {
            throw new MemwallException("cannot write to the Hugging Face cache " + cache.root() + ": " + e.getMessage());
        }
        return cache.snapshot(ref.repo(), snapshot.commit()).resolve(choice.first().path());
    }

    /** A cached model: its reference, quantization (or null), bytes of all its parts, first file. */
    public record CachedModel(String ref, String quantization, long size, Path path) {
    }

    public List<CachedModel> list() {
        List<CachedModel> models = new ArrayList<>();
        List<HubCache.CachedFile> files = cache.files();
        for (HubCache.CachedFile f : files) {
            var split = GgufSplit.match(Path.of(f.file()).getFileName().toString());
            if (split != null && Integer.parseInt(split.group(2)) != 1) {
                continue;
            }
            long size = f.size();
            if (split != null) {
                String prefix = f.file().substring(0, f.file().length() - Path.of(f.file()).getFileName().toString().length()) + split.group(1);
                size = files.stream().filter(o -> o.repo().equals(f.repo()) && o.commit().equals(f.commit()) && o.file().startsWith(prefix + "-"))
                        .mapToLong(HubCache.CachedFile::size).sum();
            }
            String tag = Quantizations.tagOf(f.file());
            models.add(new CachedModel(f.repo() + (tag != null ? ":" + tag : "/" + f.file()), tag, size, f.path()));
        }
        return models;
    }

    /** Removes what {@code ref} names from the cache (a whole repository when it names no file or tag); returns the files removed. */
    public int remove(HubRef ref) {
        try {
            if (ref.tag() == null && ref.file() == null) {
                int n = (int) cache.files().stream().filter(f -> f.repo().equals(ref.repo())).count();
                if (!Files.isDirectory(cache.repoDir(ref.repo()))) {
                    throw new MemwallException(ref + " is not in the cache " + cache.root());
                }
                cache.removeRepo(ref.repo());
                return n;
            }
            List<HubCache.CachedFile> inRepo = cache.files().stream().filter(f -> f.repo().equals(ref.repo())).toList();
            List<HubCache.CachedFile> doomed = new ArrayList<>();
            for (String commit : inRepo.stream().map(HubCache.CachedFile::commit).distinct().toList()) {
                List<RepoFile> files = inRepo.stream().filter(f -> f.commit().equals(commit)).map(f -> new RepoFile(f.file(), f.size(), null)).toList();
                try {
                    Quantizations.Choice c = Quantizations.select(ref, files, Long.MAX_VALUE, note -> { });
                    for (RepoFile r : c.files()) {
                        inRepo.stream().filter(f -> f.commit().equals(commit) && f.file().equals(r.path())).forEach(doomed::add);
                    }
                } catch (MemwallException e) {
                    // this snapshot does not hold it
                }
            }
            if (doomed.isEmpty()) {
                throw new MemwallException(ref + " is not in the cache " + cache.root());
            }
            cache.removeFiles(ref.repo(), doomed);
            return doomed.size();
        } catch (IOException e) {
            throw new MemwallException("cannot remove " + ref + " from " + cache.root() + ": " + e.getMessage());
        }
    }
}
