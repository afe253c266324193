package org.memwall.hub;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import org.memwall.MemwallException;
import org.memwall.chat.Json;

/**
 * The Hub's HTTP API, with the JDK's client only: {@code GET /api/models/REPO/revision/REV?blobs=true}
 * names the commit and lists the files with their sizes and LFS SHA-256; {@code GET REPO/resolve/COMMIT/PATH}
 * serves a file, usually by a redirect to a CDN (followed here, without the token when the host changes).
 * Downloads resume with HTTP Range from {@code blobs/SHA.incomplete}, are checked against the SHA-256
 * and moved into place atomically.
 */
public final class HubClient {
    static final int MAX_REDIRECTS = 10;
    /** Tries of one file before giving up; the partial file stays for the next pull to resume. */
    static final int ATTEMPTS = 3;

    private final URI endpoint;
    private final String token;
    private final HttpClient http;

    public HubClient(URI endpoint, String token) {
        this.endpoint = endpoint;
        this.token = token;
        this.http = HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NEVER).connectTimeout(Duration.ofSeconds(30)).build();
    }

    public URI endpoint() {
        return endpoint;
    }

    /** {@code path} under the endpoint, keeping a mirror's own path prefix. */
    private URI at(String path) {
        String base = endpoint.toString();
        return URI.create((base.endsWith("/") ? base.substring(0, base.length() - 1) : base) + path);
    }

    /** A repository at a commit: the commit hash and its files. */
    public record Snapshot(String commit, List<RepoFile> files) {
    }

    public Snapshot snapshot(String repo, String revision) {
        URI uri = at("/api/models/" + repo + "/revision/" + URLEncoder.encode(revision, StandardCharsets.UTF_8) + "?blobs=true");
        HttpResponse<InputStream> r = send(uri, null, repo, null);
        Object json;
        try (InputStream body = r.body()) {
            json = Json.parse(new String(body.readAllBytes(), StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new MemwallException("connection to " + endpoint.getHost() + " failed while reading " + repo + "'s file list: " + e.getMessage());
        } catch (MemwallException e) {
            throw new MemwallException(endpoint + " answered " + repo + "'s file list with something that is not the Hub's JSON: " + e.getMessage());
        }
        if (!(json instanceof Map<?, ?> info) || !(info.get("sha") instanceof String commit) || !(info.get("siblings") instanceof List<?> siblings)) {
            throw new MemwallException(endpoint + " answered " + repo + "'s file list without 'sha' and 'siblings'; is HF_ENDPOINT a Hugging Face Hub?");
        }
        List<RepoFile> files = new ArrayList<>();
        for (Object o : siblings) {
            if (o instanceof Map<?, ?> s && s.get("rfilename") instanceof String name) {
                long size = s.get("size") instanceof Number n ? n.longValue() : -1;
                String sha = null;
                if (s.get("lfs") instanceof Map<?, ?> lfs && lfs.get("sha256") instanceof String h) {
                    sha = h;
                    size = lfs.get("size") instanceof Number n ? n.longValue() : size;
                }
                files.add(new RepoFile(name, size, sha));
            }
        }
        return new Snapshot(commit, files);
    }

    /**
     * Makes {@code file} of {@code repo} at {@code commit} present as a verified blob of the cache
     * and returns the blob's path. A complete blob is not fetched again.
     */
    public Path download(HubCache cache, String repo, String commit, RepoFile file, DownloadProgress progress) {
        if (file.sha256() == null) {
            throw new MemwallException(repo + "/" + file.path() + " is not stored in LFS, so the Hub publishes no SHA-256 to verify it against");
        }
        Path blob = cache.blob(repo, file.sha256());
        Path part = cache.incomplete(repo, file.sha256());
        try {
            if (Files.isRegularFile(blob) && Files.size(blob) == file.size()) {
                return blob;
            }
            Files.createDirectories(blob.getParent());
            long have = Files.exists(part) ? Files.size(part) : 0;
            long usable = Files.getFileStore(blob.getParent()).getUsableSpace();
            if (file.size() - have > usable) {
                throw new MemwallException("no space left for " + file.path() + ": it needs " + (file.size() - have) + " more bytes, "
                        + blob.getParent() + " has " + usable + " free (set HF_HOME to a larger disk)");
            }
            progress.start(file.path(), file.size(), have);
            URI uri = at("/" + repo + "/resolve/" + commit + "/" + file.path());
            for (int attempt = 1; ; attempt++) {
                try {
                    fetch(uri, repo, file, part, progress);
                    break;
                } catch (IOException e) {
                    if (attempt == ATTEMPTS) {
                        throw new MemwallException("download of " + repo + "/" + file.path() + " failed " + ATTEMPTS + " times (" + e.getMessage()
                                + "); the " + Files.size(part) + " bytes received are kept in " + part + " and the next pull resumes from there");
                    }
                    progress.note("connection lost (" + e.getMessage() + "); resuming at byte " + Files.size(part));
                }
            }
            String actual = sha256(part);
            if (!actual.equals(file.sha256())) {
                Files.delete(part);
                throw new MemwallException("checksum mismatch for " + repo + "/" + file.path() + ": the Hub publishes SHA-256 " + file.sha256()
                        + ", the download has " + actual + "; it was deleted, run pull again");
            }
            try {
                Files.move(part, blob, StandardCopyOption.ATOMIC_MOVE);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(part, blob, StandardCopyOption.REPLACE_EXISTING);
            }
            progress.finish();
            return blob;
        } catch (IOException e) {
            String message = String.valueOf(e.getMessage());
            if (message.contains("No space left")) {
                throw new MemwallException("no space left on the disk of " + blob.getParent() + " while downloading " + file.path()
                        + "; the partial file is kept for resumption (free space or set HF_HOME to a larger disk)");
            }
            throw new MemwallException("cannot write " + part + ": " + message);
        }
    }

    /** Appends the rest of the file to {@code part}, asking for the bytes it lacks. */
    private void fetch(URI uri, String repo, RepoFile file, Path part, DownloadProgress progress) throws IOException {
        long have = Files.exists(part) ? Files.size(part) : 0;
        if (have > file.size()) {
            Files.delete(part);
            have = 0;
        }
        if (have == file.size()) {
            return;
        }
        HttpResponse<InputStream> r = send(uri, have > 0 ? "bytes=" + have + "-" : null, repo, file.path());
        boolean append = r.statusCode() == 206;
        if (append) {
            String range = r.headers().firstValue("Content-Range").orElse("");
            if (!range.startsWith("bytes " + have + "-")) {
                r.body().close();
                throw new IOException("the server answered range " + have + "- with '" + range + "'");
            }
        } else {
            have = 0; // the whole file again: the server ignored the range
        }
        try (InputStream in = r.body();
             OutputStream out = Files.newOutputStream(part, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                     append ? StandardOpenOption.APPEND : StandardOpenOption.TRUNCATE_EXISTING)) {
            byte[] buf = new byte[1 << 16];
            long done = have;
            for (int n; (n = in.read(buf)) > 0; ) {
                out.write(buf, 0, n);
                done += n;
                progress.advance(done);
            }
            out.flush();
            if (done != file.size()) {
                throw new IOException("the connection closed at byte " + done + " of " + file.size());
            }
        }
    }

    /** GET with the token (to the Hub's host only), following redirects; any status but 200/206 is a one-line error. */
    private HttpResponse<InputStream> send(URI uri, String range, String repo, String file) {
        URI current = uri;
        for (int hop = 0; hop <= MAX_REDIRECTS; hop++) {
            HttpRequest.Builder b = HttpRequest.newBuilder(current).GET().header("User-Agent", "memwall/0.1");
            if (token != null && sameHost(current, endpoint)) {
                b.header("Authorization", "Bearer " + token);
            }
            if (range != null) {
                b.header("Range", range);
            }
            HttpResponse<InputStream> r;
            try {
                r = http.send(b.build(), HttpResponse.BodyHandlers.ofInputStream());
            } catch (IOException e) {
                throw new MemwallException("cannot reach " + current.getScheme() + "://" + current.getAuthority() + " (" + e.getMessage()
                        + "); check the network, HF_ENDPOINT, or set HF_HUB_OFFLINE=1 to use the cache only");
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new MemwallException("interrupted while downloading from " + current.getHost());
            }
            int status = r.statusCode();
            if (status == 200 || status == 206) {
                return r;
            }
            close(r);
            if (status >= 300 && status < 400 && r.headers().firstValue("Location").isPresent()) {
                current = current.resolve(r.headers().firstValue("Location").get());
                continue;
            }
            throw error(status, r.headers().firstValue("X-Error-Code").orElse(""), repo, file);
        }
        throw new MemwallException("more than " + MAX_REDIRECTS + " redirects for " + uri);
    }

    private MemwallException error(int status, String code, String repo, String file) {
        String page = at("/" + repo).toString();
        if (code.equals("GatedRepo") || status == 403 || (status == 401 && token != null && !code.equals("RepositoryNotFound"))) {
            return new MemwallException(repo + " is gated: accept its licence at " + page + " while logged in, then set HF_TOKEN to a token of that account"
                    + (token != null ? " (the HF_TOKEN given has no access)" : "") + " (HTTP " + status + ")");
        }
        if (status == 401 || status == 404) {
            if (file != null && (code.equals("EntryNotFound") || status == 404 && !code.equals("RepositoryNotFound"))) {
                return new MemwallException("no file " + file + " in " + repo + " on " + endpoint.getHost() + " (HTTP " + status + ")");
            }
            return new MemwallException("no model " + repo + " on " + endpoint.getHost() + (token == null ? " (or it is private: set HF_TOKEN)" : "")
                    + " (HTTP " + status + ")");
        }
        return new MemwallException(endpoint.getHost() + " answered HTTP " + status + " for " + repo + (file != null ? "/" + file : ""));
    }

    private static boolean sameHost(URI a, URI b) {
        return a.getHost() != null && a.getHost().equalsIgnoreCase(b.getHost()) && a.getPort() == b.getPort();
    }

    private static void close(HttpResponse<InputStream> r) {
        try {
            r.body().close();
        } catch (IOException ignored) {
            // the body is discarded anyway
        }
    }

    static String sha256(Path file) throws IOException {
        MessageDigest md;
        try {
            md = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has SHA-256", e);
        }
        try (InputStream in = Files.newInputStream(file)) {
            byte[] buf = new byte[1 << 16];
            for (int n; (n = in.read(buf)) > 0; ) {
                md.update(buf, 0, n);
            }
        }
        return HexFormat.of().formatHex(md.digest());
    }
}
