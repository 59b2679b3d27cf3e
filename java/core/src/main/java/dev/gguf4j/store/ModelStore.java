package dev.gguf4j.store;

import dev.gguf4j.Settings;
import dev.gguf4j.chat.ChatJson;
import dev.gguf4j.gguf.GgufFile;
import dev.gguf4j.internal.JsonText;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;
import java.util.function.ToLongFunction;
import java.util.regex.Pattern;

/**
 * Models by name: resolves a REF ({@link ModelRef}: {@code user/repo[:QUANT]}, a Hugging Face repository of GGUF
 * files) to a local file, pulling it into the store first when it is not there, so an application can ship a model
 * name instead of a file.
 *
 * <pre>{@code
 * Path model = ModelStore.fromEnvironment().resolve("bartowski/Llama-3.2-1B-Instruct-GGUF:Q4_K_M");
 * try (Llama llama = Llama.load(model, LlamaOptions.DEFAULTS)) { ... }
 * }</pre>
 *
 * <p>The store ({@link #root()}: {@code $GGUF4J_MODELS}, default {@code ~/.cache/gguf4j/models}) holds each file
 * once, under its repository: {@code hf.co/USER/REPO/PATH-IN-REPO} (a split model's files side by side, as its
 * loader looks for them), and one small manifest per pulled name, {@code manifests/hf.co/USER/REPO/TAG.json}
 * (files, SHA-256s, sizes, why the file was chosen, file type, parameters, when it was pulled): two names for the
 * same file (the default and {@code :Q4_K_M}) share it, and listing the store reads manifests only.
 *
 * <p>A download goes to {@code FILE.partial} beside its target, resumes from there with an HTTP range request
 * after an interruption (in this run, up to {@link #withRetries} times, or in the next), is verified against the
 * SHA-256 the Hub lists for it (its LFS oid), and is then renamed into place atomically: a model file in the store is
 * always whole and verified. The disk's free space is checked before anything is downloaded. Offline
 * ({@code HF_HUB_OFFLINE=1}, {@link #withOffline}) the network is never touched.
 *
 * <p>Environment ({@link #fromEnvironment()}): {@code GGUF4J_MODELS} (the store), {@code HF_ENDPOINT} (the Hub, default
 * https://huggingface.co; a mirror), {@code HF_TOKEN} (for gated and private repositories), {@code HF_HUB_OFFLINE}
 * (1/true/yes/on), as huggingface_hub reads them.
 *
 * <p>Errors are {@link ModelStoreException}s with one-line messages. Instances are immutable; two processes may
 * pull into one store (a file being downloaded is locked; the second is told so).
 */
public final class ModelStore {
    public static final String MODELS_ENV = "GGUF4J_MODELS";
    public static final String ENDPOINT_ENV = "HF_ENDPOINT";
    public static final String TOKEN_ENV = "HF_TOKEN";
    public static final String OFFLINE_ENV = "HF_HUB_OFFLINE";
    public static final URI DEFAULT_ENDPOINT = URI.create("https://huggingface.co");
    /** The suffix of a download in progress, beside its target. */
    public static final String PARTIAL = ".partial";
    static final String MANIFESTS = "manifests";
    private static final Pattern HEX64 = Pattern.compile("[0-9a-f]{64}");

    private final Path root;
    private final HubClient hub;
    private final boolean offline;
    private final int retries;
    private final DownloadProgress progress;
    private final Consumer<String> log;
    private final ToLongFunction<Path> usableSpace;
    private final java.time.Duration readTimeout;

    /** How long a download may receive nothing before it counts as broken (and is resumed): 60 s by default. */
    public static final java.time.Duration READ_TIMEOUT = java.time.Duration.ofSeconds(60);

    public ModelStore(Path root, URI endpoint, Optional<String> token, boolean offline) {
        this(root, new HubClient(endpoint, token), offline, 2, DownloadProgress.NONE, s -> { },
                ModelStore::usableSpace, READ_TIMEOUT);
    }

    private ModelStore(Path root, HubClient hub, boolean offline, int retries, DownloadProgress progress,
            Consumer<String> log, ToLongFunction<Path> usableSpace, java.time.Duration readTimeout) {
        this.readTimeout = readTimeout;
        this.root = root.toAbsolutePath().normalize();
        this.hub = hub;
        this.offline = offline;
        this.retries = retries;
        this.progress = progress;
        this.log = log;
        this.usableSpace = usableSpace;
    }

    /** The store the environment describes (see the class comment). */
    public static ModelStore fromEnvironment() {
        return fromEnvironment(System.getenv());
    }

    /** As {@link #fromEnvironment()}, reading the variables from {@code env}. */
    public static ModelStore fromEnvironment(Map<String, String> env) {
        String models = env.get(MODELS_ENV);
        Path root = models != null && !models.isBlank() ? Path.of(models.strip())
                : Settings.fromSystemProperties().cacheDir().resolve("models");
        URI endpoint = DEFAULT_ENDPOINT;
        String e = env.get(ENDPOINT_ENV);
        if (e != null && !e.isBlank()) {
            try {
                endpoint = new URI(e.strip());
            } catch (java.net.URISyntaxException x) {
                endpoint = null;
            }
            if (endpoint == null || endpoint.getHost() == null || !("http".equalsIgnoreCase(endpoint.getScheme())
                    || "https".equalsIgnoreCase(endpoint.getScheme()))) {
                throw new ModelStoreException(ENDPOINT_ENV + "=" + e + ": expected an http(s) URL such as "
                        + DEFAULT_ENDPOINT);
            }
        }
        String token = env.get(TOKEN_ENV);
        return new ModelStore(root, endpoint, Optional.ofNullable(token).map(String::strip).filter(t -> !t.isEmpty()),
                isTrue(env.get(OFFLINE_ENV)));
    }

    /** huggingface_hub's {@code _is_true}: 1, ON, YES, TRUE in any case. */
    static boolean isTrue(String v) {
        return v != null && List.of("1", "ON", "YES", "TRUE").contains(v.strip().toUpperCase(Locale.ROOT));
    }

    /** This store, offline (never touching the network: pulled models only) or not. */
    public ModelStore withOffline(boolean offline) {
        return new ModelStore(root, hub, offline, retries, progress, log, usableSpace, readTimeout);
    }

    /** This store, told of each download's progress. */
    public ModelStore withProgress(DownloadProgress progress) {
        return new ModelStore(root, hub, offline, retries, progress, log, usableSpace, readTimeout);
    }

    /** This store, telling {@code log} what it does (the file chosen and why, a download resumed or skipped). */
    public ModelStore withLog(Consumer<String> log) {
        return new ModelStore(root, hub, offline, retries, progress, log, usableSpace, readTimeout);
    }

    /** This store, resuming a broken download at most {@code retries} times before it gives up (default 2). */
    public ModelStore withRetries(int retries) {
        return new ModelStore(root, hub, offline, Math.max(0, retries), progress, log, usableSpace, readTimeout);
    }

    /** This store, counting a download that receives nothing for {@code timeout} as broken (then resumed). */
    public ModelStore withReadTimeout(java.time.Duration timeout) {
        return new ModelStore(root, hub, offline, retries, progress, log, usableSpace, timeout);
    }

    /** Tests: the free bytes on the disk holding a path. */
    ModelStore withUsableSpace(ToLongFunction<Path> usableSpace) {
        return new ModelStore(root, hub, offline, retries, progress, log, usableSpace, readTimeout);
    }

    public Path root() {
        return root;
    }

    public URI endpoint() {
        return hub.endpoint();
    }

    public boolean offline() {
        return offline;
    }

    /**
     * The file to load for {@code ref}: the store's copy when it has one whose files are all there, else (online)
     * the file pulled now ({@link #pull}). Offline, a model not in the store is a {@link ModelStoreException}.
     */
    public Path resolve(String ref) throws IOException {
        ModelRef r = ModelRef.parse(ref);
        Optional<StoredModel> m = find(r);
        if (m.isPresent() && complete(m.get())) {
            return m.get().path();
        }
        if (offline) {
            throw new ModelStoreException(r + (m.isPresent() ? ": files of it are missing from the store ("
                    + root + ")" : " is not in the store (" + root + ")") + ", and offline mode ("
                    + OFFLINE_ENV + "=1 or --offline) never downloads: pull it first while online");
        }
        return pull(r).path();
    }

    private static boolean complete(StoredModel m) {
        for (Path p : m.files()) {
            if (!Files.isRegularFile(p)) {
                return false;
            }
        }
        return true;
    }

    /**
     * Lists the repository, chooses the file {@code ref} means ({@link QuantChoice}), and downloads what the store
     * lacks of it (a file it holds already with the listed SHA-256 is kept); writes the manifest.
     */
    public StoredModel pull(String ref) throws IOException {
        return pull(ModelRef.parse(ref));
    }

    public StoredModel pull(ModelRef ref) throws IOException {
        if (offline) {
            throw new ModelStoreException(ref + ": offline mode (" + OFFLINE_ENV + "=1 or --offline) never downloads;"
                    + " unset it to pull");
        }
        List<QuantChoice.RepoFile> listing = hub.listFiles(ref);
        QuantChoice.Choice choice = QuantChoice.choose(ref, listing);
        QuantChoice.Model model = choice.model();
        log.accept(ref.repoId() + ": " + model.describe() + ", " + human(model.size()) + " (" + choice.reason() + ")");
        Path dir = repoDir(ref);
        List<Path> targets = new ArrayList<>();
        List<QuantChoice.RepoFile> missing = new ArrayList<>();
        for (QuantChoice.RepoFile f : model.parts()) {
            Path target = safeResolve(dir, f.path(), ref);
            targets.add(target);
            if (!have(ref, f, target)) {
                missing.add(f);
            }
        }
        checkSpace(ref, dir, missing);
        for (QuantChoice.RepoFile f : missing) {
            download(ref, f, safeResolve(dir, f.path(), ref));
        }
        if (missing.isEmpty()) {
            log.accept(ref.repoId() + ": already in the store, verified when it was pulled: " + targets.getFirst());
        }
        long fileType = -1;
        long params = -1;
        try (GgufFile g = GgufFile.openModel(targets.getFirst(), true)) {
            fileType = g.metadata().findLong("general.file_type").orElse(-1L);
            params = g.parameterCount();
        } catch (dev.gguf4j.Gguf4jException e) {
            throw new ModelStoreException(ref + ": " + model.first() + " was downloaded and matches the repository's"
                    + " SHA-256, but it is not a GGUF model gguf4j can read: " + e.getMessage(), e);
        }
        StoredModel stored = new StoredModel(ref, model.first(), targets,
                model.parts().stream().map(f -> f.sha256().orElse(f.gitOid())).toList(), model.size(),
                model.label(), fileType, params, Instant.now(), choice.reason());
        writeManifest(stored);
        return stored;
    }

    /** The stored model {@code ref} names (no network): its manifest, or for a quantization another tag's model of it. */
    public Optional<StoredModel> find(String ref) throws IOException {
        return find(ModelRef.parse(ref));
    }

    public Optional<StoredModel> find(ModelRef ref) throws IOException {
        Path manifest = manifestPath(ref);
        if (Files.isRegularFile(manifest)) {
            return Optional.of(readManifest(manifest));
        }
        if (ref.quant().isPresent()) {
            for (StoredModel m : repoModels(ref)) {
                if (m.quantization().equals(ref.quant().get())) {
                    return Optional.of(m);
                }
            }
        }
        return Optional.empty();
    }

    /** Every stored model, by name. */
    public List<StoredModel> list() throws IOException {
        List<StoredModel> out = new ArrayList<>();
        Path base = root.resolve(MANIFESTS).resolve(ModelRef.HOST);
        if (!Files.isDirectory(base)) {
            return out;
        }
        for (Path user : sorted(base)) {
            for (Path repo : sorted(user)) {
                for (Path m : sorted(repo)) {
                    if (m.getFileName().toString().endsWith(".json")) {
                        out.add(readManifest(m));
                    }
                }
            }
        }
        return out;
    }

    /**
     * Removes {@code ref} from the store: its manifest, and its files unless another name still uses them. Without
     * a quantization, every name of that repository goes. Returns what was removed (empty: nothing matched).
     */
    public List<StoredModel> remove(String ref) throws IOException {
        ModelRef r = ModelRef.parse(ref);
        List<StoredModel> gone = new ArrayList<>();
        if (r.quant().isEmpty()) {
            gone.addAll(repoModels(r));
        } else {
            find(r).ifPresent(gone::add);
        }
        for (StoredModel m : gone) {
            Files.deleteIfExists(manifestPath(m.ref()));
        }
        List<StoredModel> kept = repoModels(r);
        for (StoredModel m : gone) {
            for (Path p : m.files()) {
                boolean used = kept.stream().anyMatch(k -> k.files().contains(p));
                if (!used) {
                    Files.deleteIfExists(p);
                    Files.deleteIfExists(p.resolveSibling(p.getFileName() + PARTIAL));
                }
            }
        }
        if (!gone.isEmpty()) {
            deleteEmptyDirs(repoDir(r), root);
            deleteEmptyDirs(manifestPath(r).getParent(), root);
        }
        return gone;
    }

    // --- layout -------------------------------------------------------------------------------------------------

    private Path repoDir(ModelRef ref) {
        return root.resolve(ModelRef.HOST).resolve(ref.user()).resolve(ref.repo());
    }

    private Path manifestPath(ModelRef ref) {
        return root.resolve(MANIFESTS).resolve(ModelRef.HOST).resolve(ref.user()).resolve(ref.repo())
                .resolve(ref.tag() + ".json");
    }

    /** {@code path} (as the repository names it) under {@code dir}, refusing names that would leave it. */
    private static Path safeResolve(Path dir, String path, ModelRef ref) {
        Path p = dir.resolve(path).normalize();
        if (!p.startsWith(dir) || p.equals(dir) || path.startsWith("/")) {
            throw new ModelStoreException(ref.repoId() + ": the repository lists a file named '" + path
                    + "', which would be written outside the store; refusing it");
        }
        return p;
    }

    private List<StoredModel> repoModels(ModelRef ref) throws IOException {
        Path dir = manifestPath(ref).getParent();
        List<StoredModel> out = new ArrayList<>();
        if (Files.isDirectory(dir)) {
            for (Path m : sorted(dir)) {
                if (m.getFileName().toString().endsWith(".json")) {
                    out.add(readManifest(m));
                }
            }
        }
        return out;
    }

    private static List<Path> sorted(Path dir) throws IOException {
        List<Path> out = new ArrayList<>();
        try (DirectoryStream<Path> s = Files.newDirectoryStream(dir)) {
            s.forEach(out::add);
        }
        out.sort(null);
        return out;
    }

    private static void deleteEmptyDirs(Path dir, Path stop) {
        for (Path d = dir; d != null && d.startsWith(stop) && !d.equals(stop); d = d.getParent()) {
            try {
                Files.delete(d);
            } catch (IOException e) {
                return; // not empty (or gone): stop
            }
        }
    }

    /** Whether the store holds {@code f} at {@code target} already, with the listed size and hash. */
    private boolean have(ModelRef ref, QuantChoice.RepoFile f, Path target) throws IOException {
        if (!Files.isRegularFile(target) || Files.size(target) != f.size()) {
            return false;
        }
        String want = f.sha256().orElse(f.gitOid());
        for (StoredModel m : repoModels(ref)) {
            int i = m.files().indexOf(target);
            if (i >= 0 && m.sha256().get(i).equalsIgnoreCase(want)) {
                return true;
            }
        }
        // a file no manifest vouches for: hash it
        MessageDigest md = digest(f);
        try (FileChannel ch = FileChannel.open(target, StandardOpenOption.READ)) {
            hash(ch, f.size(), md);
        }
        return HexFormat.of().formatHex(md.digest()).equalsIgnoreCase(want);
    }

    // --- downloads ----------------------------------------------------------------------------------------------

    private void checkSpace(ModelRef ref, Path dir, List<QuantChoice.RepoFile> missing) throws IOException {
        long need = 0;
        for (QuantChoice.RepoFile f : missing) {
            Path partial = partialOf(safeResolve(dir, f.path(), ref));
            need += f.size() - (Files.isRegularFile(partial) ? Math.min(Files.size(partial), f.size()) : 0);
        }
        if (need == 0) {
            return;
        }
        Path existing = dir;
        while (existing != null && !Files.exists(existing)) {
            existing = existing.getParent();
        }
        long free = existing == null ? Long.MAX_VALUE : usableSpace.applyAsLong(existing);
        if (need > free) {
            throw new ModelStoreException(ref + ": not enough disk space: the download needs " + human(need)
                    + " more, and the disk holding " + root + " has " + human(free) + " free; free some space or move"
                    + " the store with " + MODELS_ENV + "=DIR");
        }
    }

    private static long usableSpace(Path p) {
        try {
            return Files.getFileStore(p).getUsableSpace();
        } catch (IOException e) {
            return Long.MAX_VALUE; // unknown: the download itself will tell
        }
    }

    private static Path partialOf(Path target) {
        return target.resolveSibling(target.getFileName() + PARTIAL);
    }

    /** Downloads {@code f} to {@code target} through its .partial file, resuming up to {@link #retries} times. */
    private void download(ModelRef ref, QuantChoice.RepoFile f, Path target) throws IOException {
        Files.createDirectories(target.getParent());
        Path partial = partialOf(target);
        URI uri = hub.fileUri(ref, f.path());
        try (FileChannel ch = FileChannel.open(partial, StandardOpenOption.CREATE, StandardOpenOption.READ,
                StandardOpenOption.WRITE)) {
            FileLock lock;
            try {
                lock = ch.tryLock();
            } catch (OverlappingFileLockException e) {
                lock = null;
            }
            if (lock == null) {
                throw new ModelStoreException(ref + ": " + partial + " is being downloaded by another process"
                        + " (it holds the file's lock); wait for it to finish");
            }
            MessageDigest md = null;
            for (int attempt = 0; ; attempt++) {
                long have = ch.size();
                if (have > f.size()) {
                    ch.truncate(0);
                    have = 0;
                }
                if (md == null) {
                    md = digest(f);
                    hash(ch, have, md);
                    if (have > 0 && attempt == 0) {
                        log.accept(f.path() + ": resuming at " + human(have) + " of " + human(f.size()));
                    }
                }
                try {
                    md = fetch(ref, f, uri, ch, have, md);
                    break;
                } catch (BrokenDownload e) {
                    md = null; // hashed again from what is on disk: the answer may have restarted the file
                    long now = ch.size();
                    if (attempt >= retries) {
                        throw new ModelStoreException(ref + ": the download of " + f.path() + " broke off after "
                                + human(now) + " of " + human(f.size()) + " (" + e.getMessage() + "); the bytes so far"
                                + " are kept in " + partial + ": run the same command again to resume", e);
                    }
                    log.accept(f.path() + ": the connection broke off at " + human(now) + " (" + e.getMessage()
                            + "); resuming");
                }
            }
            String got = HexFormat.of().formatHex(md.digest());
            String want = f.sha256().orElse(f.gitOid());
            if (!got.equalsIgnoreCase(want)) {
                ch.close();
                Files.deleteIfExists(partial);
                throw new ModelStoreException(ref + ": checksum mismatch for " + f.path() + ": its SHA-256 is " + got
                        + ", the repository lists " + want + "; the download was corrupted in transit or the file"
                        + " changed on the server, and it was removed: run the same command again");
            }
            ch.force(true);
        }
        try {
            Files.move(partial, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(partial, target, StandardCopyOption.REPLACE_EXISTING);
        }
    }

    /** The connection broke during a body: resumable. */
    private static final class BrokenDownload extends IOException {
        private static final long serialVersionUID = 1L;

        BrokenDownload(String message, Throwable cause) {
            super(message, cause);
        }
    }

    /**
     * One GET of {@code f} from byte {@code have} on, appended to {@code ch} and to {@code md}. Returns the digest
     * to go on with (a fresh one when the server sent the whole file again). A {@link BrokenDownload} when the
     * body stops short.
     */
    private MessageDigest fetch(ModelRef ref, QuantChoice.RepoFile f, URI uri, FileChannel ch, long have,
            MessageDigest md) throws IOException {
        long start = System.nanoTime();
        long resumedFrom = have;
        progress.update(f.path(), have, f.size(), resumedFrom, 0);
        if (have == f.size()) {
            return md;
        }
        Map<String, String> headers = new LinkedHashMap<>();
        if (have > 0) {
            headers.put("Range", "bytes=" + have + "-");
        }
        Map<String, String> linked = new LinkedHashMap<>();
        HttpResponse<InputStream> r = hub.send(ref, uri, headers, linked);
        try (InputStream in = r.body()) {
            int status = r.statusCode();
            if (status == 416) {
                ch.truncate(0); // the server has less than we do: start over
                return fetch(ref, f, uri, ch, 0, digest(f));
            }
            if (status == 206) {
                long from = r.headers().firstValue("Content-Range")
                        .map(v -> v.replaceFirst("(?i)^bytes\\s+(\\d+)-.*$", "$1")).map(ModelStore::parseLong).orElse(-1L);
                if (from != have) {
                    throw new ModelStoreException(ref + ": " + uri + " answered a range request for byte " + have
                            + " with Content-Range " + r.headers().firstValue("Content-Range").orElse("(none)"));
                }
            } else if (have > 0) { // 200: the whole file again
                ch.truncate(0);
                have = 0;
                resumedFrom = 0;
                md = digest(f);
            }
            checkHeaders(ref, f, linked, uri);
            ByteBuffer buf = ByteBuffer.allocate(1 << 20);
            byte[] bytes = buf.array();
            long last = System.nanoTime();
            // the HTTP client has no read timeout for a body: a watchdog closes a body that stalls
            java.util.concurrent.atomic.AtomicLong lastRead = new java.util.concurrent.atomic.AtomicLong(last);
            java.util.concurrent.atomic.AtomicBoolean stalled = new java.util.concurrent.atomic.AtomicBoolean();
            long timeoutNanos = readTimeout.toNanos();
            Thread watchdog = Thread.ofVirtual().start(() -> {
                try {
                    while (System.nanoTime() - lastRead.get() < timeoutNanos) {
                        Thread.sleep(Math.max(1, Math.min(1000, timeoutNanos / 4_000_000)));
                    }
                    stalled.set(true);
                    in.close();
                } catch (InterruptedException | IOException e) {
                    // the download ended first
                }
            });
            try {
                while (have < f.size()) {
                    int n;
                    try {
                        n = in.read(bytes, 0, (int) Math.min(bytes.length, f.size() - have));
                    } catch (IOException e) {
                        throw new BrokenDownload(stalled.get() ? "nothing received for " + timeoutText()
                                : HubClient.describe(e), e);
                    }
                    if (n < 0 && stalled.get()) {
                        throw new BrokenDownload("nothing received for " + timeoutText(), null);
                    }
                    lastRead.set(System.nanoTime());
                    if (n < 0) {
                        throw new BrokenDownload("the server closed the connection", null);
                    }
                    md.update(bytes, 0, n);
                    buf.clear().limit(n);
                    while (buf.hasRemaining()) {
                        have += ch.write(buf, have);
                    }
                    long now = System.nanoTime();
                    lastRead.set(now); // a slow disk is not a stalled connection
                    if (now - last >= DownloadProgress.INTERVAL_NANOS || have == f.size()) {
                        progress.update(f.path(), have, f.size(), resumedFrom, now - start);
                        last = now;
                    }
                }
            } finally {
                watchdog.interrupt();
            }
        }
        return md;
    }

    private String timeoutText() {
        long ms = readTimeout.toMillis();
        return ms % 1000 == 0 ? ms / 1000 + " s" : ms + " ms";
    }

    /**
     * The file's size and SHA-256 as the Hub's download answer gives them ({@code X-Linked-Size}, {@code X-Linked-Etag},
     * on its redirect) must be what the listing said: otherwise the file changed in between. The CDN's own ETag is
     * not compared (its form is the CDN's business); the SHA-256 of the bytes is checked in the end anyway.
     */
    private static void checkHeaders(ModelRef ref, QuantChoice.RepoFile f, Map<String, String> linked, URI uri) {
        Optional<String> etag = Optional.ofNullable(linked.get("X-Linked-Etag"))
                .map(v -> v.replaceFirst("^W/", "").replace("\"", "").toLowerCase(Locale.ROOT));
        if (f.sha256().isPresent() && etag.isPresent() && HEX64.matcher(etag.get()).matches()
                && !etag.get().equals(f.sha256().get())) {
            throw new ModelStoreException(ref + ": " + f.path() + " changed on the server since its listing (X-Linked-Etag "
                    + etag.get() + ", listed SHA-256 " + f.sha256().get() + "); run the same command again");
        }
        Optional<Long> size = Optional.ofNullable(linked.get("X-Linked-Size")).map(ModelStore::parseLong);
        if (size.isPresent() && size.get() >= 0 && size.get() != f.size()) {
            throw new ModelStoreException(ref + ": " + uri + " says the file has " + size.get()
                    + " bytes (X-Linked-Size), the listing said " + f.size() + "; run the same command again");
        }
    }

    private static long parseLong(String s) {
        try {
            return Long.parseLong(s.strip());
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    /** SHA-256 for LFS files (their oid); Git's blob SHA-1 ({@code "blob SIZE\0"} + content) for the others. */
    private static MessageDigest digest(QuantChoice.RepoFile f) {
        try {
            if (f.sha256().isPresent()) {
                return MessageDigest.getInstance("SHA-256");
            }
            MessageDigest md = MessageDigest.getInstance("SHA-1");
            md.update(("blob " + f.size() + "\0").getBytes(StandardCharsets.US_ASCII));
            return md;
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static void hash(FileChannel ch, long bytes, MessageDigest md) throws IOException {
        ByteBuffer buf = ByteBuffer.allocate(1 << 20);
        for (long pos = 0; pos < bytes; ) {
            buf.clear().limit((int) Math.min(buf.capacity(), bytes - pos));
            int n = ch.read(buf, pos);
            if (n < 0) {
                break;
            }
            buf.flip();
            md.update(buf);
            pos += n;
        }
    }

    // --- manifests ----------------------------------------------------------------------------------------------

    private void writeManifest(StoredModel m) throws IOException {
        StringBuilder sb = new StringBuilder("{\n");
        field(sb, "ref", m.ref().toString());
        field(sb, "repo", m.ref().repoId());
        field(sb, "tag", m.ref().tag());
        field(sb, "endpoint", hub.endpoint().toString());
        field(sb, "chosen", m.repoPath());
        field(sb, "reason", m.reason());
        field(sb, "quantization", m.quantization());
        sb.append("  \"file_type\": ").append(m.fileType()).append(",\n");
        sb.append("  \"parameters\": ").append(m.parameters()).append(",\n");
        sb.append("  \"size\": ").append(m.size()).append(",\n");
        field(sb, "pulled_at", m.pulledAt().toString());
        sb.append("  \"files\": [");
        Path dir = repoDir(m.ref());
        for (int i = 0; i < m.files().size(); i++) {
            sb.append(i == 0 ? "\n" : ",\n").append("    {\"path\": ");
            JsonText.quote(sb, dir.relativize(m.files().get(i)).toString().replace('\\', '/'));
            sb.append(", \"size\": ").append(Files.size(m.files().get(i))).append(", \"sha256\": ");
            JsonText.quote(sb, m.sha256().get(i)).append('}');
        }
        sb.append("\n  ]\n}\n");
        Path target = manifestPath(m.ref());
        Files.createDirectories(target.getParent());
        Path tmp = Files.createTempFile(target.getParent(), m.ref().tag() + ".", ".tmp");
        try {
            Files.writeString(tmp, sb, StandardCharsets.UTF_8);
            try {
                Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
            }
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    private static void field(StringBuilder sb, String key, String value) {
        sb.append("  ");
        JsonText.quote(sb, key).append(": ");
        JsonText.quote(sb, value).append(",\n");
    }

    private StoredModel readManifest(Path file) throws IOException {
        String text;
        try {
            text = Files.readString(file, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            throw new ModelStoreException(file + ": the manifest vanished while it was read");
        }
        try {
            if (!(ChatJson.parse(text, file.toString()) instanceof Map<?, ?> m)) {
                throw new ModelStoreException("not a JSON object");
            }
            ModelRef ref = ModelRef.parse(str(m, "ref"));
            Path dir = repoDir(ref);
            List<Path> files = new ArrayList<>();
            List<String> shas = new ArrayList<>();
            for (Object o : (List<?>) m.get("files")) {
                Map<?, ?> f = (Map<?, ?>) o;
                files.add(safeResolve(dir, str(f, "path"), ref));
                shas.add(str(f, "sha256"));
            }
            if (files.isEmpty()) {
                throw new ModelStoreException("no files");
            }
            return new StoredModel(ref, str(m, "chosen"), files, shas, num(m, "size"), str(m, "quantization"),
                    num(m, "file_type"), num(m, "parameters"), Instant.parse(str(m, "pulled_at")), str(m, "reason"));
        } catch (RuntimeException e) {
            throw new ModelStoreException(file + ": a damaged store manifest (" + e.getMessage() + "); remove it and"
                    + " pull the model again", e);
        }
    }

    private static String str(Map<?, ?> m, String key) {
        if (m.get(key) instanceof String s) {
            return s;
        }
        throw new ModelStoreException("'" + key + "' is missing or not a string");
    }

    private static long num(Map<?, ?> m, String key) {
        if (m.get(key) instanceof Number n) {
            return n.longValue();
        }
        throw new ModelStoreException("'" + key + "' is missing or not a number");
    }

    /** Bytes as people read them: 1.23 GiB. */
    public static String human(long bytes) {
        if (bytes < 1024) {
            return bytes + " B";
        }
        String[] units = {"KiB", "MiB", "GiB", "TiB", "PiB"};
        double v = bytes;
        int u = -1;
        while (v >= 1024 && u < units.length - 1) {
            v /= 1024;
            u++;
        }
        return String.format(Locale.ROOT, "%.2f %s", v, units[u]);
    }
}
