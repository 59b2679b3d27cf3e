package dev.gguf4j.store;

import dev.gguf4j.chat.ChatJson;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpHeaders;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The two Hugging Face Hub endpoints a pull needs (https://huggingface.co/docs/hub/api and huggingface_hub's
 * download guide): {@code GET {endpoint}/api/models/{user}/{repo}/tree/main?recursive=true}, a JSON array of
 * {@code {type, oid, size, path, lfs: {oid, size, pointerSize}}} (the LFS oid is the file's SHA-256; pages follow
 * {@code Link: <...>; rel="next"}), and {@code GET {endpoint}/{user}/{repo}/resolve/main/{path}}, the file (a
 * redirect to a CDN in real life; {@code Range} answered with 206). {@code HF_TOKEN} goes in
 * {@code Authorization: Bearer}, and only to the endpoint's own host: redirects are followed here, and a redirect
 * to another host (the CDN) gets no token, as huggingface_hub does.
 */
final class HubClient {
    static final String REVISION = "main";
    private static final int MAX_REDIRECTS = 10;
    private static final Pattern NEXT = Pattern.compile("<([^>]+)>\\s*;\\s*rel=\"?next\"?");

    private final URI endpoint;
    private final Optional<String> token;
    private final HttpClient http;

    HubClient(URI endpoint, Optional<String> token) {
        String e = endpoint.toString();
        this.endpoint = URI.create(e.endsWith("/") ? e.substring(0, e.length() - 1) : e);
        this.token = token;
        this.http = HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NEVER)
                .connectTimeout(Duration.ofSeconds(30)).build();
    }

    URI endpoint() {
        return endpoint;
    }

    /** Every file of the repository's main revision (all pages, all folders). */
    List<QuantChoice.RepoFile> listFiles(ModelRef ref) throws IOException {
        List<QuantChoice.RepoFile> files = new ArrayList<>();
        URI uri = URI.create(endpoint + "/api/models/" + ref.repoId() + "/tree/" + REVISION + "?recursive=true");
        for (int page = 0; uri != null; page++) {
            HttpResponse<InputStream> r = send(ref, uri, Map.of("Accept", "application/json"));
            String body;
            try (InputStream in = r.body()) {
                body = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            }
            Object json;
            try {
                json = ChatJson.parse(body, uri.toString());
            } catch (ChatJson.JsonException e) {
                throw new ModelStoreException(ref.repoId() + ": the file listing at " + uri + " is not JSON ("
                        + e.getMessage() + "); is HF_ENDPOINT (" + endpoint + ") a Hugging Face Hub?");
            }
            if (!(json instanceof List<?> list)) {
                throw new ModelStoreException(ref.repoId() + ": the file listing at " + uri + " is not a JSON array");
            }
            for (Object o : list) {
                if (o instanceof Map<?, ?> m && "file".equals(m.get("type")) && m.get("path") instanceof String path) {
                    Optional<String> sha = Optional.empty();
                    long size = m.get("size") instanceof Number n ? n.longValue() : -1;
                    if (m.get("lfs") instanceof Map<?, ?> lfs) {
                        if (lfs.get("oid") instanceof String oid) {
                            sha = Optional.of(oid.toLowerCase(Locale.ROOT));
                        }
                        if (lfs.get("size") instanceof Number n) {
                            size = n.longValue();
                        }
                    }
                    files.add(new QuantChoice.RepoFile(path, size, sha, m.get("oid") instanceof String g ? g : ""));
                }
            }
            uri = r.headers().firstValue("Link").map(NEXT::matcher).filter(Matcher::find)
                    .map(m -> endpoint.resolve(m.group(1))).orElse(null);
            if (page > 10_000) {
                throw new ModelStoreException(ref.repoId() + ": the file listing has more than 10000 pages");
            }
        }
        return files;
    }

    /** The download URL of {@code path} in the repository. */
    URI fileUri(ModelRef ref, String path) {
        StringBuilder sb = new StringBuilder(endpoint.toString()).append('/').append(ref.repoId())
                .append("/resolve/").append(REVISION).append('/');
        for (byte b : path.getBytes(StandardCharsets.UTF_8)) {
            int c = b & 0xff;
            if (c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || "-._~/".indexOf(c) >= 0) {
                sb.append((char) c);
            } else {
                sb.append('%').append(String.format(Locale.ROOT, "%02X", c));
            }
        }
        return URI.create(sb.toString());
    }

    /**
     * GET {@code uri} (following redirects), with {@code headers}; a non-2xx answer is a {@link ModelStoreException}
     * naming the repository, the status and what to do. The caller closes the body.
     */
    HttpResponse<InputStream> send(ModelRef ref, URI uri, Map<String, String> headers) throws IOException {
        return send(ref, uri, headers, new java.util.HashMap<>());
    }

    /**
     * As above; {@code linked} gets the Hub's {@code X-Linked-Size} and {@code X-Linked-Etag} (an LFS file's size and
     * SHA-256, sent with the redirect to the CDN) from whichever answer carries them.
     */
    HttpResponse<InputStream> send(ModelRef ref, URI uri, Map<String, String> headers, Map<String, String> linked)
            throws IOException {
        URI at = uri;
        for (int hop = 0; ; hop++) {
            HttpRequest.Builder b = HttpRequest.newBuilder(at).GET().header("User-Agent", "gguf4j")
                    .timeout(ModelStore.READ_TIMEOUT); // until the answer's headers
            headers.forEach(b::header);
            if (token.isPresent() && sameHost(at, endpoint)) {
                b.header("Authorization", "Bearer " + token.get());
            }
            HttpResponse<InputStream> r;
            try {
                r = http.send(b.build(), HttpResponse.BodyHandlers.ofInputStream());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new java.io.InterruptedIOException("interrupted while fetching " + at);
            } catch (IOException e) {
                throw new ModelStoreException(ref.repoId() + ": cannot reach " + at.getScheme() + "://"
                        + at.getAuthority() + " (" + describe(e) + ")" + (sameHost(at, endpoint)
                        ? "; check the network, or HF_ENDPOINT" : "") + "; offline: --offline or HF_HUB_OFFLINE=1"
                        + " uses pulled models only", e);
            }
            int s = r.statusCode();
            for (String h : new String[] {"X-Linked-Size", "X-Linked-Etag"}) {
                r.headers().firstValue(h).ifPresent(v -> linked.putIfAbsent(h, v));
            }
            if (s >= 300 && s < 400 && s != 304) {
                r.body().close();
                Optional<String> loc = r.headers().firstValue("Location");
                if (loc.isEmpty() || hop >= MAX_REDIRECTS) {
                    throw new ModelStoreException(ref.repoId() + ": " + at + " answered " + s + (loc.isEmpty()
                            ? " without a Location" : " after " + MAX_REDIRECTS + " redirects"));
                }
                at = at.resolve(loc.get());
                continue;
            }
            if (s >= 200 && s < 300 || s == 416) {
                return r;
            }
            String body;
            try (InputStream in = r.body()) {
                body = new String(in.readNBytes(300), StandardCharsets.UTF_8).replaceAll("\\s+", " ").strip();
            }
            throw error(ref, at, s, r.headers(), body);
        }
    }

    private ModelStoreException error(ModelRef ref, URI at, int status, HttpHeaders h, String body) {
        String code = h.firstValue("X-Error-Code").orElse("");
        String server = h.firstValue("X-Error-Message").orElse(body.isEmpty() ? "" : body);
        String why = server.isEmpty() ? "" : " (" + server + ")";
        String what = ref.repoId() + ": " + at + " answered " + status + why + ": ";
        boolean tokenSet = token.isPresent();
        if (code.equals("RepoNotFound") || status == 404 && at.getPath().startsWith("/api/")) {
            return new ModelStoreException(what + "no such repository on " + endpoint + (tokenSet ? ""
                    : " (or it is private: set HF_TOKEN to a token that can read it)"));
        }
        if (code.equals("GatedRepo") || status == 403) {
            return new ModelStoreException(what + "the repository is gated or private and " + (tokenSet
                    ? "the token in HF_TOKEN has no access to it: accept its conditions on its page, or use a token that"
                    + " can read it" : "no HF_TOKEN is set: set HF_TOKEN to an access token"
                    + " (https://huggingface.co/settings/tokens) after accepting its conditions on its page"));
        }
        if (status == 401) {
            return new ModelStoreException(what + (tokenSet ? "the token in HF_TOKEN was refused (expired or"
                    + " mistyped?), or the repository does not exist" : "the repository is private or gated, or does"
                    + " not exist: set HF_TOKEN to an access token (https://huggingface.co/settings/tokens)"));
        }
        if (status == 404) {
            return new ModelStoreException(what + "no such file in the repository (was it just removed?)");
        }
        if (status == 429) {
            return new ModelStoreException(what + "too many requests: wait a little and run it again"
                    + (tokenSet ? "" : ", or set HF_TOKEN (signed-in users get higher limits)"));
        }
        return new ModelStoreException(what + "the server failed; run it again later");
    }

    static boolean sameHost(URI a, URI b) {
        return a.getHost() != null && a.getHost().equalsIgnoreCase(b.getHost()) && a.getPort() == b.getPort();
    }

    static String describe(IOException e) {
        String m = e.getMessage();
        return e.getClass().getSimpleName() + (m == null || m.isBlank() ? "" : ": " + m);
    }
}
