package org.memwall.hub;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.memwall.MemwallException;

/**
 * The Hugging Face cache, laid out as {@code huggingface_hub} lays it out so that downloads are shared
 * with it, llama.cpp and others: {@code ROOT/models--OWNER--NAME/blobs/ETAG} holds the bytes (for LFS
 * files the ETag is the SHA-256), {@code snapshots/COMMIT/PATH} are relative symbolic links to them,
 * {@code refs/REVISION} holds the commit a branch pointed to, {@code blobs/ETAG.incomplete} a download
 * in progress. ROOT is {@code HF_HUB_CACHE}, else {@code HF_HOME/hub}, else {@code ~/.cache/huggingface/hub}.
 */
public record HubCache(Path root) {

    public static HubCache fromEnvironment(Map<String, String> env) {
        String cache = env.get("HF_HUB_CACHE");
        if (cache != null && !cache.isBlank()) {
            return new HubCache(Path.of(cache));
        }
        String home = env.get("HF_HOME");
        if (home != null && !home.isBlank()) {
            return new HubCache(Path.of(home, "hub"));
        }
        String xdg = env.get("XDG_CACHE_HOME");
        Path base = xdg != null && !xdg.isBlank() ? Path.of(xdg) : Path.of(System.getProperty("user.home"), ".cache");
        return new HubCache(base.resolve("huggingface").resolve("hub"));
    }

    public Path repoDir(String repo) {
        return root.resolve("models--" + repo.replace("/", "--"));
    }

    public Path blob(String repo, String etag) {
        return repoDir(repo).resolve("blobs").resolve(etag);
    }

    public Path incomplete(String repo, String etag) {
        return repoDir(repo).resolve("blobs").resolve(etag + ".incomplete");
    }

    public Path snapshot(String repo, String commit) {
        return repoDir(repo).resolve("snapshots").resolve(commit);
    }

    /** The commit {@code revision} pointed to when last pulled, or null. A commit hash is its own answer. */
    public String commitOf(String repo, String revision) {
        Path ref = repoDir(repo).resolve("refs").resolve(revision);
        try {
            return Files.isRegularFile(ref) ? Files.readString(ref, StandardCharsets.UTF_8).strip() : null;
        } catch (IOException e) {
            return null;
        }
    }

    void writeRef(String repo, String revision, String commit) throws IOException {
        Path ref = repoDir(repo).resolve("refs").resolve(revision);
        Files.createDirectories(ref.getParent());
        Files.writeString(ref, commit, StandardCharsets.UTF_8);
    }

    /** Points {@code snapshots/COMMIT/PATH} at the blob with a relative link (a copy where links are not allowed). */
    Path link(String repo, String commit, String file, String etag) throws IOException {
        Path target = snapshot(repo, commit).resolve(file);
        Files.createDirectories(target.getParent());
        Path blob = blob(repo, etag);
        Path relative = target.getParent().relativize(blob);
        Files.deleteIfExists(target);
        try {
            Files.createSymbolicLink(target, relative);
        } catch (UnsupportedOperationException | FileSystemException e) {
            Files.copy(blob, target);
        }
        return target;
    }

    /** The GGUF files of every snapshot of every cached model. */
    public List<CachedFile> files() {
        List<CachedFile> found = new ArrayList<>();
        if (!Files.isDirectory(root)) {
            return found;
        }
        try (Stream<Path> repos = Files.list(root)) {
            for (Path dir : repos.filter(p -> p.getFileName().toString().startsWith("models--")).sorted().toList()) {
                String repo = dir.getFileName().toString().substring("models--".length()).replaceFirst("--", "/");
                Path snapshots = dir.resolve("snapshots");
                if (!Files.isDirectory(snapshots)) {
                    continue;
                }
                try (Stream<Path> walk = Files.walk(snapshots)) {
                    for (Path p : walk.filter(p -> p.toString().endsWith(".gguf") && Files.isRegularFile(p)).sorted().toList()) {
                        Path rel = snapshots.relativize(p);
                        found.add(new CachedFile(repo, rel.getName(0).toString(), rel.subpath(1, rel.getNameCount()).toString().replace('\\', '/'), p, Files.size(p)));
                    }
                }
            }
        } catch (IOException e) {
            throw new MemwallException("cannot read the Hugging Face cache " + root + ": " + e.getMessage());
        }
        return found;
    }

    /** A file of a snapshot: {@code path} is the link in the snapshot folder. */
    public record CachedFile(String repo, String commit, String file, Path path, long size) {
    }

    /** Deletes a whole cached model. */
    void removeRepo(String repo) throws IOException {
        Path dir = repoDir(repo);
        try (Stream<Path> walk = Files.walk(dir)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }

    /** Deletes snapshot links and then every blob no remaining link points to. */
    void removeFiles(String repo, List<CachedFile> files) throws IOException {
        for (CachedFile f : files) {
            Files.deleteIfExists(f.path());
        }
        Path blobs = repoDir(repo).resolve("blobs");
        List<Path> used = new ArrayList<>();
        try (Stream<Path> walk = Files.walk(repoDir(repo).resolve("snapshots"))) {
            for (Path p : walk.filter(Files::isSymbolicLink).toList()) {
                used.add(p.getParent().resolve(Files.readSymbolicLink(p)).normalize());
            }
        }
        if (Files.isDirectory(blobs)) {
            try (Stream<Path> list = Files.list(blobs)) {
                for (Path b : list.toList()) {
                    if (!used.contains(b.normalize())) {
                        Files.delete(b);
                    }
                }
            }
        }
    }
}
