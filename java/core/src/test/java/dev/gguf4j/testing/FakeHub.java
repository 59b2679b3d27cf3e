package dev.gguf4j.testing;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A local HTTP server with the Hugging Face Hub's URL layout, for pull tests (no network here): the file listing
 * {@code GET /api/models/{user}/{repo}/tree/main?recursive=true} (a JSON array of {@code {type, oid, size, path,
 * lfs: {oid, size, pointerSize}}}, the LFS oid being the SHA-256) and the download
 * {@code GET /{user}/{repo}/resolve/main/{path}}, answered as the real Hub answers: a 302 to a CDN URL carrying
 * {@code X-Linked-Size} and {@code X-Linked-Etag} (the quoted SHA-256), and the CDN's {@code 200} or, for a
 * {@code Range: bytes=N-} request, {@code 206} with {@code Content-Range}. Unknown repositories get 404 with
 * {@code X-Error-Code: RepoNotFound}; a repository with a token gets 401 without it and 403 with a wrong one.
 * Faults to order: a body cut after N bytes (the connection closed), bytes that do not match the listed hash.
 */
public final class FakeHub implements AutoCloseable {
    private record Entry(Path file, long size, String sha256, String gitOid, boolean lfs) {
    }

    private final HttpServer server;
    /** The CDN downloads redirect to, when it is another server ({@link #separateCdn}); null: this one. */
    private volatile HttpServer cdn;
    private final Map<String, Map<String, Entry>> repos = new ConcurrentHashMap<>();
    private final Map<String, String> tokens = new ConcurrentHashMap<>();
    private final Map<String, long[]> drops = new ConcurrentHashMap<>(); // path -> {bytes, times}
    private final Map<String, long[]> stalls = new ConcurrentHashMap<>(); // path -> {bytes, times}
    private final Map<String, Boolean> changed = new ConcurrentHashMap<>();
    private final Map<String, Boolean> corrupt = new ConcurrentHashMap<>();
    private final List<String> log = Collections.synchronizedList(new ArrayList<>());
    private final AtomicInteger downloads = new AtomicInteger();

    private FakeHub() throws IOException {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/", this::handle);
        server.setExecutor(java.util.concurrent.Executors.newCachedThreadPool());
        server.start();
    }

    public static FakeHub start() {
        try {
            return new FakeHub();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** What HF_ENDPOINT is set to. */
    public URI endpoint() {
        return URI.create("http://127.0.0.1:" + server.getAddress().getPort());
    }

    /** Adds a repository: path in the repository -> local file served for it (.gguf files as LFS files). */
    public FakeHub repo(String repoId, Map<String, Path> files) {
        Map<String, Entry> m = new LinkedHashMap<>();
        files.forEach((path, file) -> {
            try {
                byte[] bytes = Files.readAllBytes(file);
                MessageDigest sha1 = MessageDigest.getInstance("SHA-1");
                sha1.update(("blob " + bytes.length + "\0").getBytes(StandardCharsets.US_ASCII));
                m.put(path, new Entry(file, bytes.length, HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256")
                        .digest(bytes)), HexFormat.of().formatHex(sha1.digest(bytes)), path.endsWith(".gguf")));
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        repos.put(repoId, m);
        return this;
    }

    /** Downloads redirect to a second server (another port: another origin), as huggingface.co's go to its CDN. */
    public FakeHub separateCdn() {
        try {
            cdn = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        cdn.createContext("/", this::handle);
        cdn.start();
        return this;
    }

    /** The repository answers only requests with {@code Authorization: Bearer token}. */
    public FakeHub gated(String repoId, String token) {
        tokens.put(repoId, token);
        return this;
    }

    /** The next {@code times} downloads of {@code path} stop after {@code bytes} bytes of body (connection closed). */
    public FakeHub drop(String path, long bytes, int times) {
        drops.put(path, new long[] {bytes, times});
        return this;
    }

    /** The next {@code times} downloads of {@code path} send {@code bytes} bytes, then nothing for 10 s. */
    public FakeHub stall(String path, long bytes, int times) {
        stalls.put(path, new long[] {bytes, times});
        return this;
    }

    /** The Hub's answer for {@code path} names another SHA-256 than its listing (the file changed in between). */
    public FakeHub changed(String path) {
        changed.put(path, true);
        return this;
    }

    /** Downloads of {@code path} send bytes that differ from the listed SHA-256 (one bit flipped, same size). */
    public FakeHub corrupt(String path) {
        corrupt.put(path, true);
        return this;
    }

    /** Every request as "METHOD PATH[ Range: ...][ Authorization: ...]". */
    public List<String> requests() {
        synchronized (log) {
            return List.copyOf(log);
        }
    }

    /** How many file bodies were sent (whole or ranged). */
    public int downloads() {
        return downloads.get();
    }

    private void handle(HttpExchange ex) throws IOException {
        try (ex) {
            String path = ex.getRequestURI().getRawPath();
            String range = ex.getRequestHeaders().getFirst("Range");
            String auth = ex.getRequestHeaders().getFirst("Authorization");
            log.add(ex.getRequestMethod() + " " + ex.getRequestURI() + (range != null ? " Range: " + range : "")
                    + (auth != null ? " Authorization: " + auth : ""));
            if (path.startsWith("/api/models/")) {
                String rest = path.substring("/api/models/".length());
                int tree = rest.indexOf("/tree/main");
                if (tree < 0) {
                    send(ex, 404, "{\"error\":\"not found\"}", null);
                    return;
                }
                String repo = rest.substring(0, tree);
                if (!allowed(ex, repo, auth)) {
                    return;
                }
                send(ex, 200, listing(repos.get(repo)), "application/json");
                return;
            }
            if (path.startsWith("/cdn/")) {
                cdn(ex, decode(path.substring(5)), range);
                return;
            }
            int resolve = path.indexOf("/resolve/main/");
            if (resolve < 0) {
                send(ex, 404, "not found", null);
                return;
            }
            String repo = path.substring(1, resolve);
            if (!allowed(ex, repo, auth)) {
                return;
            }
            String file = decode(path.substring(resolve + "/resolve/main/".length()));
            Entry e = repos.get(repo).get(file);
            if (e == null) {
                ex.getResponseHeaders().add("X-Error-Code", "EntryNotFound");
                send(ex, 404, "Entry not found", null);
                return;
            }
            // as huggingface.co: a redirect to the CDN, with the LFS file's size and hash
            HttpServer c = cdn;
            ex.getResponseHeaders().add("Location", (c == null ? "" : "http://127.0.0.1:" + c.getAddress().getPort())
                    + "/cdn/" + repo + "/" + file);
            ex.getResponseHeaders().add("X-Linked-Size", Long.toString(e.size()));
            ex.getResponseHeaders().add("X-Linked-Etag", "\"" + (changed.containsKey(file) ? "f".repeat(64)
                    : e.sha256()) + "\"");
            ex.getResponseHeaders().add("ETag", "\"" + e.gitOid() + "\"");
            ex.sendResponseHeaders(302, -1);
        }
    }

    private static String decode(String s) {
        return URLDecoder.decode(s.replace("+", "%2B"), StandardCharsets.UTF_8);
    }

    private boolean allowed(HttpExchange ex, String repo, String auth) throws IOException {
        if (!repos.containsKey(repo)) {
            ex.getResponseHeaders().add("X-Error-Code", "RepoNotFound");
            send(ex, 404, "{\"error\":\"Repository not found\"}", "application/json");
            return false;
        }
        String token = tokens.get(repo);
        if (token != null && auth == null) {
            ex.getResponseHeaders().add("X-Error-Message", "Access to model " + repo + " is restricted. You must"
                    + " have access to it and be authenticated to access it. Please log in.");
            send(ex, 401, "", null);
            return false;
        }
        if (token != null && !auth.equals("Bearer " + token)) {
            send(ex, 403, "{\"error\":\"Access to model " + repo + " is restricted\"}", "application/json");
            return false;
        }
        return true;
    }

    private void cdn(HttpExchange ex, String repoAndPath, String range) throws IOException {
        Entry e = null;
        String file = null;
        for (var r : repos.entrySet()) {
            if (repoAndPath.startsWith(r.getKey() + "/")) {
                file = repoAndPath.substring(r.getKey().length() + 1);
                e = r.getValue().get(file);
            }
        }
        if (e == null) {
            send(ex, 404, "no such object", null);
            return;
        }
        byte[] bytes = Files.readAllBytes(e.file());
        if (corrupt.containsKey(file)) {
            bytes[bytes.length / 2] ^= 1;
        }
        long from = 0;
        if (range != null && range.startsWith("bytes=") && range.endsWith("-")) {
            from = Long.parseLong(range.substring(6, range.length() - 1));
            if (from >= bytes.length) {
                ex.getResponseHeaders().add("Content-Range", "bytes */" + bytes.length);
                ex.sendResponseHeaders(416, -1);
                return;
            }
            ex.getResponseHeaders().add("Content-Range", "bytes " + from + "-" + (bytes.length - 1) + "/" + bytes.length);
        }
        ex.getResponseHeaders().add("ETag", "\"" + e.sha256() + "\"");
        ex.getResponseHeaders().add("Accept-Ranges", "bytes");
        int n = bytes.length - (int) from;
        ex.sendResponseHeaders(range != null ? 206 : 200, n);
        downloads.incrementAndGet();
        long[] drop = drops.get(file);
        OutputStream out = ex.getResponseBody();
        if (drop != null && drop[1] > 0 && drop[0] < n) {
            drop[1]--;
            out.write(bytes, (int) from, (int) drop[0]);
            out.flush();
            try {
                Thread.sleep(200); // let the client read what was sent (the HTTP client drops what it holds on error)
            } catch (InterruptedException x) {
                Thread.currentThread().interrupt();
            }
            throw new IOException("dropping the connection on purpose after " + drop[0] + " bytes"); // closes it
        }
        long[] stall = stalls.get(file);
        if (stall != null && stall[1] > 0 && stall[0] < n) {
            stall[1]--;
            out.write(bytes, (int) from, (int) stall[0]);
            out.flush();
            try {
                Thread.sleep(10_000);
            } catch (InterruptedException x) {
                Thread.currentThread().interrupt();
            }
            throw new IOException("stalled on purpose");
        }
        out.write(bytes, (int) from, n);
    }

    private static String listing(Map<String, Entry> files) {
        StringBuilder sb = new StringBuilder("[");
        java.util.Set<String> dirs = new java.util.TreeSet<>();
        files.keySet().forEach(p -> {
            for (int i = p.indexOf('/'); i >= 0; i = p.indexOf('/', i + 1)) {
                dirs.add(p.substring(0, i));
            }
        });
        for (String d : dirs) {
            sb.append(sb.length() > 1 ? "," : "").append("{\"type\":\"directory\",\"oid\":\"")
                    .append("0".repeat(40)).append("\",\"size\":0,\"path\":\"").append(d).append("\"}");
        }
        files.forEach((p, e) -> {
            sb.append(sb.length() > 1 ? "," : "").append("{\"type\":\"file\",\"oid\":\"").append(e.gitOid())
                    .append("\",\"size\":").append(e.size()).append(",\"path\":\"").append(p).append('"');
            if (e.lfs()) {
                sb.append(",\"lfs\":{\"oid\":\"").append(e.sha256()).append("\",\"size\":").append(e.size())
                        .append(",\"pointerSize\":134}");
            }
            sb.append('}');
        });
        return sb.append(']').toString();
    }

    private static void send(HttpExchange ex, int status, String body, String type) throws IOException {
        byte[] b = body.getBytes(StandardCharsets.UTF_8);
        if (type != null) {
            ex.getResponseHeaders().add("Content-Type", type);
        }
        ex.sendResponseHeaders(status, b.length == 0 ? -1 : b.length);
        if (b.length > 0) {
            ex.getResponseBody().write(b);
        }
    }

    @Override
    public void close() {
        server.stop(0);
        if (cdn != null) {
            cdn.stop(0);
        }
    }
}
