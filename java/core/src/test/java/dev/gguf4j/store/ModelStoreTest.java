package dev.gguf4j.store;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gguf4j.gguf.GgufFile;
import dev.gguf4j.gguf.GgufTensor;
import dev.gguf4j.testing.FakeHub;
import dev.gguf4j.testing.TestData;
import java.io.IOException;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Pulls from a local server with the Hugging Face Hub's URL layout ({@link FakeHub}) into a temporary store. */
class ModelStoreTest {
    static final String REPO = "tester/stories260K-GGUF";
    static final String Q4KM = "stories260K-pad256-Q4_K_M.gguf";

    @TempDir
    Path tmp;
    FakeHub hub;
    ModelStore store;
    final List<String> log = new ArrayList<>();

    static Path q4km() {
        return TestData.model(Q4KM);
    }

    static Path split(int i) {
        return TestData.root().resolve("tests/golden/split/stories260K-pad256-Q4_K_M-0000" + i + "-of-00003.gguf");
    }

    @BeforeEach
    void start() throws IOException {
        Path readme = Files.writeString(tmp.resolve("README.md"), "# stories260K\n");
        Map<String, Path> files = new LinkedHashMap<>();
        files.put(".gitattributes", readme);
        files.put("README.md", readme);
        files.put("stories260K-F32.gguf", TestData.model("stories260K.gguf"));
        files.put("stories260K-pad256-Q4_K_M.gguf", q4km());
        hub = FakeHub.start().repo(REPO, files);
        store = new ModelStore(tmp.resolve("store"), hub.endpoint(), Optional.empty(), false).withLog(log::add);
    }

    @AfterEach
    void stop() {
        hub.close();
    }

    @Test
    void defaultIsQ4KMVerifiedAndKeptOnce() throws Exception {
        StoredModel m = store.pull(REPO);
        assertEquals(tmp.resolve("store/hf.co/tester/stories260K-GGUF/" + Q4KM), m.path());
        assertArrayEquals(Files.readAllBytes(q4km()), Files.readAllBytes(m.path()));
        assertEquals("Q4_K_M, the default", m.reason());
        assertEquals(15, m.fileType()); // LLAMA_FTYPE_MOSTLY_Q4_K_M, as the file says
        try (GgufFile f = GgufFile.open(q4km())) {
            assertEquals(f.parameterCount(), m.parameters());
        }
        assertTrue(log.getFirst().contains(Q4KM) && log.getFirst().contains("Q4_K_M, the default"), log.toString());
        assertTrue(Files.isRegularFile(tmp.resolve("store/manifests/hf.co/tester/stories260K-GGUF/latest.json")));
        assertEquals(List.of("hf.co/tester/stories260K-GGUF:latest"), store.list().stream()
                .map(s -> s.ref().toString()).toList());
        // pulled again: listed again, nothing downloaded; resolved: no network at all
        int downloads = hub.downloads();
        assertEquals(m.path(), store.pull(REPO).path());
        assertEquals(downloads, hub.downloads());
        int requests = hub.requests().size();
        assertEquals(m.path(), store.resolve("hf.co/" + REPO));
        assertEquals(m.path(), store.resolve(REPO + ":q4_k_m")); // the same file under its quantization's name
        assertEquals(requests, hub.requests().size());
        // the request went where the Hub's API has it, and the download through the redirect
        assertTrue(hub.requests().contains("GET /api/models/" + REPO + "/tree/main?recursive=true"), hub.requests().toString());
        assertTrue(hub.requests().contains("GET /" + REPO + "/resolve/main/" + Q4KM), hub.requests().toString());
    }

    @Test
    void explicitQuantSharesNothingTwiceAndRmKeepsWhatIsUsed() throws Exception {
        Path f32 = store.pull(REPO + ":f32").path();
        assertArrayEquals(Files.readAllBytes(TestData.model("stories260K.gguf")), Files.readAllBytes(f32));
        Path q = store.pull(REPO + ":Q4_K_M").path();
        Path d = store.pull(REPO).path();
        assertEquals(q, d);
        assertEquals(2, hub.downloads());
        assertEquals(3, store.list().size());
        assertEquals(1, store.remove(REPO + ":Q4_K_M").size());
        assertTrue(Files.exists(d), "still used by :latest");
        assertEquals(2, store.remove(REPO).size());
        assertFalse(Files.exists(d));
        assertFalse(Files.exists(f32));
        assertTrue(store.list().isEmpty());
        assertTrue(store.remove(REPO).isEmpty());
        try (Stream<Path> s = Files.walk(tmp.resolve("store"))) {
            assertEquals(List.of(tmp.resolve("store")), s.toList(), "no empty folders left");
        }
    }

    @Test
    void splitModelPulledWholeAndLoadable() throws Exception {
        Map<String, Path> files = new LinkedHashMap<>();
        for (int i = 3; i >= 1; i--) {
            files.put("Q4_K_M/stories260K-pad256-Q4_K_M-0000" + i + "-of-00003.gguf", split(i));
        }
        files.put("stories260K-F32.gguf", TestData.model("stories260K.gguf"));
        hub.repo("tester/split-GGUF", files);
        StoredModel m = store.pull("tester/split-GGUF");
        assertEquals(3, m.files().size());
        assertTrue(m.path().endsWith("Q4_K_M/stories260K-pad256-Q4_K_M-00001-of-00003.gguf"), m.path().toString());
        for (int i = 1; i <= 3; i++) {
            assertArrayEquals(Files.readAllBytes(split(i)), Files.readAllBytes(m.files().get(i - 1)));
        }
        // the three files together hold the unsplit model's tensors, byte for byte
        try (GgufFile whole = GgufFile.open(q4km()); GgufFile parts = GgufFile.openModel(m.path(), true)) {
            assertEquals(3, parts.parts().size());
            assertEquals(whole.tensors().size(), parts.tensors().size());
            assertEquals(whole.parameterCount(), m.parameters());
            for (GgufTensor t : whole.tensors()) {
                GgufTensor p = parts.requireTensor(t.name());
                assertArrayEquals(t.data().toArray(ValueLayout.JAVA_BYTE), p.data().toArray(ValueLayout.JAVA_BYTE),
                        t.name());
            }
        }
    }

    @Test
    void resumesAfterADroppedConnection() throws Exception {
        hub.drop(Q4KM, 500_000, 1);
        StoredModel m = store.pull(REPO);
        assertArrayEquals(Files.readAllBytes(q4km()), Files.readAllBytes(m.path()));
        // resumed where the first answer stopped (what the client got of the 500000 bytes sent)
        String range = hub.requests().stream().filter(r -> r.contains("Range: bytes=")).findFirst()
                .orElseThrow(() -> new AssertionError("no range request: " + hub.requests()));
        long from = Long.parseLong(range.replaceFirst(".*Range: bytes=(\\d+)-$", "$1"));
        assertTrue(from > 0 && from <= 500_000, range);
        assertTrue(log.stream().anyMatch(l -> l.contains("broke off") && l.contains("resuming")), log.toString());
    }

    /** A connection that stays open and sends nothing counts as broken after the read timeout, and is resumed. */
    @Test
    void resumesAfterAStall() throws Exception {
        hub.stall(Q4KM, 400_000, 1);
        long t0 = System.nanoTime();
        StoredModel m = store.withReadTimeout(java.time.Duration.ofMillis(500)).pull(REPO);
        assertArrayEquals(Files.readAllBytes(q4km()), Files.readAllBytes(m.path()));
        assertTrue(System.nanoTime() - t0 < 8_000_000_000L, "waited for the server instead of the timeout");
        assertTrue(log.stream().anyMatch(l -> l.contains("nothing received for 500 ms")), log.toString());
        assertTrue(hub.requests().stream().anyMatch(r -> r.contains("Range: bytes=")), hub.requests().toString());
    }

    @Test
    void brokenDownloadIsKeptAndResumedByTheNextRun() throws Exception {
        hub.drop(Q4KM, 300_000, 1);
        ModelStoreException e = assertThrows(ModelStoreException.class, () -> store.withRetries(0).pull(REPO));
        Path partial = tmp.resolve("store/hf.co/tester/stories260K-GGUF/" + Q4KM + ".partial");
        long kept = Files.size(partial);
        assertTrue(kept > 0 && kept <= 300_000, "kept " + kept);
        assertTrue(e.getMessage().contains("broke off after " + ModelStore.human(kept) + " of 1.30 MiB")
                && e.getMessage().contains("kept in " + partial + ": run the same command again to resume"),
                e.getMessage());
        assertFalse(Files.exists(tmp.resolve("store/hf.co/tester/stories260K-GGUF/" + Q4KM)));
        assertTrue(store.list().isEmpty());
        StoredModel m = store.pull(REPO);
        assertArrayEquals(Files.readAllBytes(q4km()), Files.readAllBytes(m.path()));
        assertFalse(Files.exists(partial));
        assertTrue(hub.requests().getLast().endsWith("Range: bytes=" + kept + "-"), hub.requests().toString());
    }

    @Test
    void checksumMismatchRemovesTheDownload() {
        hub.corrupt(Q4KM);
        ModelStoreException e = assertThrows(ModelStoreException.class, () -> store.pull(REPO));
        assertTrue(e.getMessage().contains("checksum mismatch for " + Q4KM) && e.getMessage().contains("removed"),
                e.getMessage());
        Path dir = tmp.resolve("store/hf.co/tester/stories260K-GGUF");
        assertFalse(Files.exists(dir.resolve(Q4KM)));
        assertFalse(Files.exists(dir.resolve(Q4KM + ".partial")));
    }

    @Test
    void fileChangedSinceTheListing() {
        hub.changed(Q4KM);
        ModelStoreException e = assertThrows(ModelStoreException.class, () -> store.pull(REPO));
        assertTrue(e.getMessage().contains(Q4KM + " changed on the server since its listing (X-Linked-Etag "
                + "f".repeat(64)), e.getMessage());
    }

    @Test
    void gatedRepositoryNeedsHfToken() throws Exception {
        hub.gated(REPO, "hf_secret");
        ModelStoreException e = assertThrows(ModelStoreException.class, () -> store.pull(REPO));
        assertTrue(e.getMessage().contains("answered 401") && e.getMessage().contains("set HF_TOKEN"), e.getMessage());
        ModelStore wrong = new ModelStore(tmp.resolve("store"), hub.endpoint(), Optional.of("hf_wrong"), false);
        e = assertThrows(ModelStoreException.class, () -> wrong.pull(REPO));
        assertTrue(e.getMessage().contains("answered 403") && e.getMessage().contains("HF_TOKEN"), e.getMessage());
        ModelStore right = new ModelStore(tmp.resolve("store"), hub.endpoint(), Optional.of("hf_secret"), false);
        hub.separateCdn();
        assertArrayEquals(Files.readAllBytes(q4km()), Files.readAllBytes(right.pull(REPO).path()));
        List<String> requests = hub.requests();
        assertTrue(requests.get(requests.size() - 2).startsWith("GET /" + REPO + "/resolve/main/" + Q4KM)
                && requests.get(requests.size() - 2).endsWith("Authorization: Bearer hf_secret"), requests.toString());
        // the token goes to the Hub, never to the CDN it redirects to (another origin)
        assertEquals("GET /cdn/" + REPO + "/" + Q4KM, requests.getLast());
    }

    @Test
    void unknownRepositoryNoGgufNoQuant() throws IOException {
        ModelStoreException e = assertThrows(ModelStoreException.class, () -> store.pull("tester/nothing"));
        assertTrue(e.getMessage().contains("tester/nothing") && e.getMessage().contains("answered 404")
                && e.getMessage().contains("no such repository"), e.getMessage());
        hub.repo("tester/safetensors", Map.of("README.md", tmp.resolve("README.md")));
        e = assertThrows(ModelStoreException.class, () -> store.pull("tester/safetensors"));
        assertTrue(e.getMessage().contains("no GGUF model file"), e.getMessage());
        e = assertThrows(ModelStoreException.class, () -> store.pull(REPO + ":Q5_K_M"));
        assertEquals(REPO + " has no GGUF file for Q5_K_M; it has: F32, Q4_K_M (pull " + REPO
                + ":QUANT with one of them)", e.getMessage());
    }

    @Test
    void offlineNeverTouchesTheNetwork() throws Exception {
        ModelStore offline = store.withOffline(true);
        ModelStoreException e = assertThrows(ModelStoreException.class, () -> offline.resolve(REPO));
        assertTrue(e.getMessage().contains("is not in the store") && e.getMessage().contains("HF_HUB_OFFLINE=1"),
                e.getMessage());
        assertThrows(ModelStoreException.class, () -> offline.pull(REPO));
        assertTrue(hub.requests().isEmpty(), hub.requests().toString());
        Path p = store.pull(REPO).path();
        int requests = hub.requests().size();
        assertEquals(p, offline.resolve(REPO));
        assertEquals(requests, hub.requests().size());
    }

    @Test
    void diskSpaceIsCheckedFirst() {
        ModelStoreException e = assertThrows(ModelStoreException.class,
                () -> store.withUsableSpace(p -> 1_000_000).pull(REPO));
        assertTrue(e.getMessage().contains("not enough disk space: the download needs 1.30 MiB more")
                && e.getMessage().contains("976.56 KiB free"), e.getMessage());
        assertTrue(hub.requests().stream().noneMatch(r -> r.contains("/resolve/")), hub.requests().toString());
    }

    @Test
    void environment() {
        ModelStore s = ModelStore.fromEnvironment(Map.of("GGUF4J_MODELS", tmp.resolve("m").toString(),
                "HF_ENDPOINT", "http://mirror.example:8080/", "HF_HUB_OFFLINE", "true"));
        assertEquals(tmp.resolve("m"), s.root());
        assertEquals("http://mirror.example:8080", s.endpoint().toString());
        assertTrue(s.offline());
        assertFalse(ModelStore.fromEnvironment(Map.of("HF_HUB_OFFLINE", "0")).offline());
        assertEquals(ModelStore.DEFAULT_ENDPOINT, ModelStore.fromEnvironment(Map.of()).endpoint());
        ModelStoreException e = assertThrows(ModelStoreException.class,
                () -> ModelStore.fromEnvironment(Map.of("HF_ENDPOINT", "mirror.example")));
        assertTrue(e.getMessage().startsWith("HF_ENDPOINT=mirror.example: expected an http(s) URL"), e.getMessage());
    }
}
