package dev.gguf4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gguf4j.gguf.GgufFile;
import dev.gguf4j.testing.FakeHub;
import dev.gguf4j.testing.TestData;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code pull}, {@code list}, {@code show}, {@code rm} and {@code -hf} end to end against a local server with the
 * Hugging Face Hub's URL layout ({@link FakeHub}), reached through HF_ENDPOINT, into a store in GGUF4J_MODELS.
 */
class StoreCommandsTest {
    static final String REPO = "tester/stories260K-GGUF";
    static final String Q4KM = "stories260K-pad256-Q4_K_M.gguf";

    @TempDir
    Path tmp;
    FakeHub hub;
    Map<String, String> saved;

    @BeforeEach
    void start() {
        Map<String, Path> files = new LinkedHashMap<>();
        files.put("stories260K-F32.gguf", TestData.model("stories260K.gguf"));
        files.put(Q4KM, TestData.model(Q4KM));
        hub = FakeHub.start().repo(REPO, files);
        Map<String, Path> split = new LinkedHashMap<>();
        for (int i = 1; i <= 3; i++) {
            split.put("stories260K-pad256-Q4_K_M-0000" + i + "-of-00003.gguf", TestData.root()
                    .resolve("tests/golden/split/stories260K-pad256-Q4_K_M-0000" + i + "-of-00003.gguf"));
        }
        hub.repo("tester/split-GGUF", split);
        saved = StoreCommands.environment;
        environment(Map.of());
    }

    void environment(Map<String, String> extra) {
        Map<String, String> env = new LinkedHashMap<>(Map.of("GGUF4J_MODELS", tmp.resolve("store").toString(),
                "HF_ENDPOINT", hub.endpoint().toString()));
        env.putAll(extra);
        StoreCommands.environment = env;
    }

    @AfterEach
    void stop() {
        StoreCommands.environment = saved;
        hub.close();
    }

    @Test
    void pullListShowRm() throws Exception {
        MainTest.Result r = MainTest.run("pull", REPO);
        assertEquals(0, r.status(), r.err());
        Path stored = tmp.resolve("store/hf.co/tester/stories260K-GGUF/" + Q4KM);
        assertEquals("hf.co/" + REPO + ":latest " + stored + "\n", r.out());
        assertTrue(r.err().contains("gguf4j: " + REPO + ": " + Q4KM + ", 1.30 MiB (Q4_K_M, the default)"), r.err());
        assertTrue(r.err().contains("gguf4j: " + Q4KM + " 100.0% 1.30 MiB / 1.30 MiB"), r.err());

        r = MainTest.run("list");
        assertEquals(0, r.status(), r.err());
        String[] lines = r.out().split("\n");
        assertEquals(2, lines.length, r.out());
        assertTrue(lines[0].matches("NAME +QUANTIZATION +PARAMETERS +SIZE +MODIFIED"), lines[0]);
        // the file type and parameter count as `gguf4j info` prints them for the same file
        MainTest.Result info = MainTest.run("info", TestData.model(Q4KM).toString());
        String fileType = info.out().lines().filter(l -> l.startsWith("file type:")).findFirst().orElseThrow()
                .substring("file type:".length()).strip();
        String params = info.out().lines().filter(l -> l.startsWith("parameters:")).findFirst().orElseThrow()
                .replaceAll("parameters: +(.*) \\(\\d+\\)", "$1");
        assertEquals("Q4_K - Medium", fileType);
        assertTrue(lines[1].startsWith("hf.co/" + REPO + ":latest  " + fileType + "  ") && lines[1].contains(params)
                && lines[1].contains("1.30 MiB"), lines[1]);

        r = MainTest.run("show", REPO);
        assertEquals(0, r.status(), r.err());
        try (GgufFile f = GgufFile.open(stored)) {
            var md = f.metadata();
            assertTrue(r.out().contains("architecture:  llama\n"), r.out());
            assertTrue(r.out().contains("context:       " + md.getLong("llama.context_length") + "\n"), r.out());
            assertTrue(r.out().contains("quantization:  Q4_K - Medium\n"), r.out());
            assertTrue(r.out().contains("chosen:        " + Q4KM + " (Q4_K_M, the default)"), r.out());
            for (String k : md.asMap().keySet()) {
                if (k.startsWith("general.")) {
                    assertTrue(r.out().contains("  " + k + " "), k + " missing from:\n" + r.out());
                }
            }
        }
        r = MainTest.run("rm", REPO);
        assertEquals(0, r.status(), r.err());
        assertEquals("removed hf.co/" + REPO + ":latest (" + Q4KM + ")\n", r.out());
        assertTrue(!Files.exists(stored));
        r = MainTest.run("list");
        assertTrue(r.out().startsWith("no models in " + tmp.resolve("store")), r.out());
    }

    /** {@code run -hf} pulls and runs: the greedy text of llama-simple on the same file, up to its first near-tie. */
    @Test
    void runHfPullsAndRuns() throws Exception {
        String text;
        String want;
        try (GgufFile g = GgufFile.open(TestData.golden("stories260K-pad256-Q4_K_M.golden.gguf"))) {
            text = g.metadata().getString("prompt.0.text");
            want = g.metadata().getString("prompt.0.llama_simple_stdout").substring(4); // less "<s> "
        }
        // greedy tokens agree with llama.cpp's up to token 44 (GoldenLogitsTest: a near-tie there)
        MainTest.Result r = MainTest.run("run", "-hf", REPO, "-p", text, "-n", "40", "--temp", "0", "-t", "2");
        assertEquals(0, r.status(), r.err());
        assertTrue(r.out().length() > text.length() + 60 && want.startsWith(r.out().stripTrailing()),
                r.out() + "\nis not the start of llama-simple's\n" + want);
        assertTrue(r.err().contains("(Q4_K_M, the default)"), r.err());
        // again, offline: the store's copy, no request at all
        int requests = hub.requests().size();
        MainTest.Result again = MainTest.run("run", "-hf", "hf.co/" + REPO + ":Q4_K_M", "--offline", "-p", text,
                "-n", "40", "--temp", "0", "-t", "2");
        assertEquals(0, again.status(), again.err());
        assertEquals(r.out(), again.out());
        assertEquals(requests, hub.requests().size());
        // a split model: the same text as the one-file model
        MainTest.Result split = MainTest.run("run", "-hf", "tester/split-GGUF", "-p", text, "-n", "40", "--temp", "0",
                "-t", "2");
        assertEquals(0, split.status(), split.err());
        assertEquals(r.out(), split.out());
        assertEquals(3, hub.requests().stream().filter(q -> q.contains("/tester/split-GGUF/resolve/main/")).count());
    }

    @Test
    void hfOnEveryModelCommand() {
        assertEquals(0, MainTest.run("pull", REPO).status());
        environment(Map.of("HF_HUB_OFFLINE", "1"));
        MainTest.Result b = MainTest.run("bench", "-hf", REPO, "-p", "4", "-n", "2", "-r", "1", "-t", "1");
        assertEquals(0, b.status(), b.err());
        assertTrue(b.out().contains("llama"), b.out());
        MainTest.Result pp = MainTest.run("perplexity", "-hf", REPO, "-c", "16", "--chunks", "1", "-f",
                TestData.root().resolve("README.md").toString());
        assertEquals(0, pp.status(), pp.err());
        assertTrue(pp.out().startsWith("Final estimate: PPL = "), pp.out());
        MainTest.Result chat = ChatCommandTest.chat("Hi\n", "-hf", REPO, "-n", "4", "--temp", "0");
        assertEquals(0, chat.status(), chat.err());
    }

    /** {@code serve -hf}: pulled, then served under the file's name. */
    @Test
    void serveHf() throws Exception {
        java.util.concurrent.CountDownLatch stop = new java.util.concurrent.CountDownLatch(1);
        java.util.concurrent.CompletableFuture<Server> started = new java.util.concurrent.CompletableFuture<>();
        java.io.ByteArrayOutputStream log = new java.io.ByteArrayOutputStream();
        java.io.PrintStream ps = new java.io.PrintStream(log, true, java.nio.charset.StandardCharsets.UTF_8);
        Thread serving = new Thread(() -> {
            try {
                ServeCommand.run(java.util.List.of("-hf", REPO, "--port", "0", "-t", "1", "-c", "64"), ps, ps, stop,
                        started::complete);
            } catch (Throwable e) {
                started.completeExceptionally(e);
            }
        });
        serving.start();
        try {
            Server server = started.get(60, java.util.concurrent.TimeUnit.SECONDS);
            var http = java.net.http.HttpClient.newHttpClient();
            var r = http.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create(server.url() + "/v1/models"))
                    .build(), java.net.http.HttpResponse.BodyHandlers.ofString());
            assertEquals(200, r.statusCode());
            assertTrue(r.body().contains(Q4KM), r.body());
            assertTrue(log.toString(java.nio.charset.StandardCharsets.UTF_8).contains("(Q4_K_M, the default)"));
        } finally {
            stop.countDown();
            serving.join(60_000);
        }
    }

    @Test
    void errorsAreOneLine() {
        TestFiles.assertOneLine(MainTest.run("pull", "tester/nothing"), 1, "tester/nothing", "answered 404",
                "no such repository");
        TestFiles.assertOneLine(MainTest.run("pull", REPO + ":Q5_K_M"), 1, "no GGUF file for Q5_K_M",
                "it has: F32, Q4_K_M");
        TestFiles.assertOneLine(MainTest.run("run", "-hf", "not a ref"), 1, "model reference 'not a ref'",
                "user/repo[:QUANT]");
        TestFiles.assertOneLine(MainTest.run("run", "-hf", REPO, "--offline"), 1, "is not in the store",
                "HF_HUB_OFFLINE=1 or --offline");
        TestFiles.assertOneLine(MainTest.run("run", "-m", "x.gguf", "-hf", REPO), 2, "run: -m and -hf both");
        TestFiles.assertOneLine(MainTest.run("show", REPO), 1, "hf.co/" + REPO + ":latest is not in the store",
                "gguf4j pull " + REPO);
        TestFiles.assertOneLine(MainTest.run("rm", REPO), 1, "is not in the store");
        TestFiles.assertOneLine(MainTest.run("pull"), 2, "pull: name a model");
        hub.gated(REPO, "hf_secret");
        TestFiles.assertOneLine(MainTest.run("pull", REPO), 1, "answered 401", "set HF_TOKEN");
        environment(Map.of("HF_TOKEN", "hf_other"));
        TestFiles.assertOneLine(MainTest.run("pull", REPO), 1, "answered 403", "HF_TOKEN");
        environment(Map.of("HF_ENDPOINT", "nonsense"));
        TestFiles.assertOneLine(MainTest.run("pull", REPO), 1, "HF_ENDPOINT=nonsense: expected an http(s) URL");
    }
}
