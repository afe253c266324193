package org.memwall.hub;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A Hugging Face Hub over loopback HTTP, for tests: the model-info API, {@code resolve} answering with
 * a redirect to a second server (another port, as the CDN is another host) that serves the bytes
 * with HTTP Range. Repositories, gated ones, a published checksum that does not match, and a
 * connection cut after some bytes are set up by the test.
 */
public final class FakeHub implements AutoCloseable {
    public static final String COMMIT = "0123456789abcdef0123456789abcdef01234567";

    private record Repo(Map<String, byte[]> files, Map<String, String> publishedSha, String token) {
    }

    private final HttpServer api;
    private final HttpServer cdn;
    private final Map<String, Repo> repos = new ConcurrentHashMap<>();
    private final Map<String, byte[]> blobs = new ConcurrentHashMap<>();
    /** Requests seen: "API path [Authorization]" and "CDN path [Range] [Authorization]". */
    public final List<String> log = new CopyOnWriteArrayList<>();
    /** The next this-many CDN answers send half of the bytes asked for, then close the connection. */
    public final AtomicInteger cutsLeft = new AtomicInteger();

    public FakeHub() throws IOException {
        api = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        cdn = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        api.createContext("/", this::api);
        cdn.createContext("/", this::cdn);
        api.start();
        cdn.start();
    }

    public String endpoint() {
        return "http://127.0.0.1:" + api.getAddress().getPort();
    }

    /** Publishes a repository; with a token it is gated: only requests carrying that token get in. */
    public void repo(String name, Map<String, byte[]> files, String token) {
        Map<String, String> sha = new LinkedHashMap<>();
        files.forEach((path, bytes) -> {
            sha.put(path, sha256(bytes));
            blobs.put(sha256(bytes), bytes);
        });
        repos.put(name, new Repo(new LinkedHashMap<>(files), sha, token));
    }

    /** Makes the Hub publish {@code sha} for a file while its CDN serves the real bytes. */
    public void publishWrongChecksum(String repo, String path, String sha) {
        Repo r = repos.get(repo);
        blobs.put(sha, r.files().get(path));
        r.publishedSha().put(path, sha);
    }

    private void api(HttpExchange ex) throws IOException {
        String path = ex.getRequestURI().getPath();
        String auth = ex.getRequestHeaders().getFirst("Authorization");
        log.add("API " + path + (auth != null ? " " + auth : ""));
        if (path.startsWith("/api/models/") && path.endsWith("/revision/main")) {
            Repo r = access(ex, path.substring("/api/models/".length(), path.length() - "/revision/main".length()), auth);
            if (r != null) {
                List<String> siblings = new ArrayList<>();
                r.files().forEach((file, bytes) -> siblings.add("{\"rfilename\": \"" + file + "\", \"size\": " + bytes.length
                        + ", \"lfs\": {\"sha256\": \"" + r.publishedSha().get(file) + "\", \"size\": " + bytes.length + ", \"pointerSize\": 134}}"));
                send(ex, 200, "{\"id\": \"x\", \"sha\": \"" + COMMIT + "\", \"siblings\": [" + String.join(", ", siblings) + "]}", Map.of());
            }
            return;
        }
        int resolve = path.indexOf("/resolve/" + COMMIT + "/");
        if (resolve > 0) {
            Repo r = access(ex, path.substring(1, resolve), auth);
            if (r == null) {
                return;
            }
            String file = path.substring(resolve + ("/resolve/" + COMMIT + "/").length());
            if (!r.files().containsKey(file)) {
                send(ex, 404, "{\"error\": \"Entry not found\"}", Map.of("X-Error-Code", "EntryNotFound"));
                return;
            }
            String sha = r.publishedSha().get(file);
            send(ex, 302, "", Map.of("Location", "http://127.0.0.1:" + cdn.getAddress().getPort() + "/blobs/" + sha,
                    "X-Repo-Commit", COMMIT, "X-Linked-Etag", "\"" + sha + "\""));
            return;
        }
        send(ex, 404, "{\"error\": \"not found\"}", Map.of());
    }

    private Repo access(HttpExchange ex, String name, String auth) throws IOException {
        Repo r = repos.get(name);
        if (r == null) {
            send(ex, 401, "{\"error\": \"Repository not found\"}", Map.of("X-Error-Code", "RepositoryNotFound"));
            return null;
        }
        if (r.token() != null && !("Bearer " + r.token()).equals(auth)) {
            send(ex, 401, "{\"error\": \"Access to model " + name + " is restricted.\"}", Map.of("X-Error-Code", "GatedRepo"));
            return null;
        }
        return r;
    }

    private void cdn(HttpExchange ex) throws IOException {
        String path = ex.getRequestURI().getPath();
        String range = ex.getRequestHeaders().getFirst("Range");
        String auth = ex.getRequestHeaders().getFirst("Authorization");
        log.add("CDN " + path + (range != null ? " " + range : "") + (auth != null ? " " + auth : ""));
        byte[] bytes = blobs.get(path.substring("/blobs/".length()));
        if (bytes == null) {
            send(ex, 404, "", Map.of());
            return;
        }
        int from = range != null ? Integer.parseInt(range.replaceFirst("bytes=(\\d+)-", "$1")) : 0;
        if (range != null) {
            ex.getResponseHeaders().add("Content-Range", "bytes " + from + "-" + (bytes.length - 1) + "/" + bytes.length);
        }
        ex.sendResponseHeaders(range != null ? 206 : 200, bytes.length - from);
        OutputStream out = ex.getResponseBody();
        boolean cut = cutsLeft.getAndUpdate(n -> Math.max(0, n - 1)) > 0;
        int end = cut ? from + (bytes.length - from) / 2 : bytes.length;
        try {
            out.write(bytes, from, end - from);
            out.flush();
            ex.close(); // short of the announced length, this drops the connection mid-body
        } catch (IOException e) {
            // expected when cutting
        }
    }

    private static void send(HttpExchange ex, int status, String body, Map<String, String> headers) throws IOException {
        byte[] b = body.getBytes(StandardCharsets.UTF_8);
        headers.forEach((k, v) -> ex.getResponseHeaders().add(k, v));
        ex.sendResponseHeaders(status, b.length == 0 ? -1 : b.length);
        if (b.length > 0) {
            try (OutputStream out = ex.getResponseBody()) {
                out.write(b);
            }
        }
        ex.close();
    }

    public static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public void close() {
        api.stop(0);
        cdn.stop(0);
    }
}
