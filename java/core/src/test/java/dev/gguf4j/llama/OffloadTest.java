package dev.gguf4j.llama;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gguf4j.backend.Accelerator;
import dev.gguf4j.backend.Accelerators;
import dev.gguf4j.backend.BackendUnavailableException;
import dev.gguf4j.backend.Backends;
import dev.gguf4j.backend.DeviceContext;
import dev.gguf4j.backend.DeviceMemory;
import dev.gguf4j.backend.DeviceOutOfMemoryException;
import dev.gguf4j.backend.HostAccelerator;
import dev.gguf4j.engine.DeviceLayers;
import dev.gguf4j.engine.LlamaSession;
import dev.gguf4j.gguf.GgufFile;
import dev.gguf4j.sampling.SamplingParams;
import dev.gguf4j.testing.TestData;
import dev.gguf4j.types.GgmlType;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * GPU layer offload through the host accelerator (the device operations run on the CPU with the CPU path's
 * kernels): the hybrid forward pass must give the CPU path's logits bit for bit for every split, move the hidden
 * state across once per direction per step, and free its device memory; plus the errors.
 */
class OffloadTest {
    static final long GIB = 1L << 30;

    static HostAccelerator host(long capacity) {
        return new HostAccelerator(Backends.select(), capacity);
    }

    static Llama load(String model, LlamaOptions o, Accelerator acc) throws Exception {
        return load(TestData.model(model), o, acc);
    }

    static Llama load(java.nio.file.Path model, LlamaOptions o, Accelerator acc) throws Exception {
        return Llama.load(model, o, () -> Accelerators.Probe.of(acc));
    }

    /** Golden models, their prompt, the KV type: one F32-weight, one F16-weight and two quantized models. */
    static Stream<Arguments> models() {
        return Stream.of(Arguments.of("stories260K.golden.gguf", LlamaSession.KvType.F16),
                Arguments.of("kjv7m-F16.golden.gguf", LlamaSession.KvType.F32),
                Arguments.of("kjv7m-Q4_K_M.golden.gguf", LlamaSession.KvType.F16),
                Arguments.of("stories260K-pad256-Q8_0.golden.gguf", LlamaSession.KvType.F16));
    }

    /** Logits of the prompt (one batch, every position) then of 12 greedy tokens one at a time. */
    static List<float[]> run(Llama llama, int[] prompt) {
        List<float[]> out = new ArrayList<>();
        try (LlamaSession s = llama.newSession()) {
            for (float[] l : s.forwardBatch(prompt, true)) {
                out.add(l.clone());
            }
            float[] last = out.getLast();
            for (int i = 0; i < 12; i++) {
                last = s.forward(GoldenLogitsTest.argmax(last)).clone();
                out.add(last);
            }
        }
        return out;
    }

    /** N = 0, 1, some, n_layer, n_layer + 1, -1: bit-identical logits (prompt batch and token steps) to the CPU path. */
    @ParameterizedTest
    @MethodSource("models")
    void everySplitGivesTheCpuLogitsBitForBit(String golden, LlamaSession.KvType kv) throws Exception {
        String model;
        int[] prompt;
        try (GgufFile g = GgufFile.open(TestData.golden(golden))) {
            model = g.metadata().getString("golden.model_file");
            prompt = g.requireTensor("prompt.0.tokens").data().toArray(ValueLayout.JAVA_INT);
        }
        // batch size 3: the prompt goes through the device in several steps;
        // repack off: the CPU's k-quant layers then run ggml's vec_dot arithmetic, which the device kernels share;
        // with the interleaved copy (the default) they run its own arithmetic (gguf4j.h, g4j_matmat_r8; RepackTest),
        // so a split would differ from the CPU path by float rounding in those layers
        LlamaOptions o = LlamaOptions.DEFAULTS.withThreads(2).withContextLength(prompt.length + 16).withKvType(kv)
                .withBatchSize(3).withRepack(false);
        List<float[]> cpu;
        int n;
        try (Llama llama = load(model, o, host(GIB))) {
            n = llama.config().layers();
            assertFalse(llama.offloadPlan().offloads());
            cpu = run(llama, prompt);
        }
        for (int ngl : new int[] {0, 1, Math.max(1, n / 2), n, n + 1, -1, 1000}) {
            HostAccelerator acc = host(GIB);
            try (Llama llama = load(model, o.withGpuLayers(ngl), acc)) {
                OffloadPlan p = llama.offloadPlan();
                assertEquals(ngl == -1 || ngl > n ? n + 1 : ngl, p.gpuLayers());
                assertEquals(Math.min(p.gpuLayers(), n), p.deviceLayers());
                assertEquals(p.gpuLayers() > n, p.outputOnDevice());
                List<float[]> dev = run(llama, prompt);
                assertEquals(cpu.size(), dev.size());
                for (int i = 0; i < cpu.size(); i++) {
                    assertArrayEquals(cpu.get(i), dev.get(i), model + " -ngl " + ngl + " step " + i);
                }
                if (ngl == 0) {
                    assertEquals(0, acc.usedBytes(), "-ngl 0 touches no device memory");
                }
            }
            assertEquals(0, acc.usedBytes(), "closing the model frees all device memory");
        }
    }

    /** Greedy completions through Llama (prompt batches + token steps) are the same text for every split. */
    @Test
    void greedyCompletionIsTheSameForEverySplit() throws Exception {
        CompletionParams cp = CompletionParams.DEFAULTS.withMaxTokens(40).withSampling(SamplingParams.greedy());
        LlamaOptions o = LlamaOptions.DEFAULTS.withThreads(2).withContextLength(64).withBatchSize(4);
        String want;
        try (Llama llama = load("stories260K.gguf", o, host(GIB))) {
            want = llama.complete("Once upon a time", cp).text();
        }
        assertTrue(want.startsWith(", there was a little girl named Lily"), want);
        for (int ngl : new int[] {1, 3, 5, 6, -1}) {
            try (Llama llama = load("stories260K.gguf", o.withGpuLayers(ngl), host(GIB))) {
                assertEquals(want, llama.complete("Once upon a time", cp).text(), "-ngl " + ngl);
            }
        }
    }

    /** The hidden state goes up once and comes back once per step, as hidden states or as logits. */
    @Test
    void onlyTheBoundaryCrossesPerStep() throws Exception {
        LlamaOptions o = LlamaOptions.DEFAULTS.withThreads(2).withContextLength(32).withBatchSize(8);
        for (int ngl : new int[] {0, 2, 5, 6}) {
            HostAccelerator acc = host(GIB);
            try (Llama llama = load("stories260K.gguf", o.withGpuLayers(ngl), acc); LlamaSession s = llama.newSession()) {
                LlamaConfig c = llama.config();
                boolean offload = ngl > 0;
                boolean logitsOnDevice = ngl > c.layers();
                HostAccelerator.Transfers t0 = acc.transfers();
                long g0 = acc.graphLaunches();
                s.forward(1);
                HostAccelerator.Transfers one = acc.transfers().since(t0);
                assertEquals(0, acc.graphLaunches() - g0, "the first one-token step runs op by op");
                assertEquals(offload ? 1 : 0, one.uploads(), "-ngl " + ngl + " uploads per token");
                assertEquals(offload ? 1 : 0, one.downloads(), "-ngl " + ngl + " downloads per token");
                if (offload) {
                    assertEquals(256 + 4L * c.dim(), one.uploadBytes(), "position + hidden state");
                    assertEquals(4L * (logitsOnDevice ? c.vocab() : c.dim()), one.downloadBytes());
                }
                HostAccelerator.Transfers t1 = acc.transfers();
                s.forwardBatch(new int[] {5, 6, 7, 8, 9}, false);
                HostAccelerator.Transfers batch = acc.transfers().since(t1);
                assertEquals(offload ? 1 : 0, batch.uploads(), "-ngl " + ngl + " uploads per batch");
                assertEquals(offload ? 1 : 0, batch.downloads(), "-ngl " + ngl + " downloads per batch");
                if (offload) {
                    assertEquals(256 + 5 * 4L * c.dim(), batch.uploadBytes());
                    assertEquals(4L * (logitsOnDevice ? c.vocab() : 5 * c.dim()), batch.downloadBytes());
                }
                s.forward(2);
                s.forward(3);
                assertEquals(offload ? 2 : 0, acc.graphLaunches() - g0, "then a recorded graph, replayed");
                // greedy: with the output layer on the device only the token id comes back
                HostAccelerator.Transfers t2 = acc.transfers();
                int next = s.forwardArgmax(10);
                HostAccelerator.Transfers greedy = acc.transfers().since(t2);
                assertEquals(offload ? 1 : 0, greedy.downloads());
                if (offload) {
                    assertEquals(logitsOnDevice ? 4 : 4L * c.dim(), greedy.downloadBytes(), "-ngl " + ngl);
                }
                try (LlamaSession cpu = new LlamaSession(llama.model(), Backends.select(), 32, 1,
                        LlamaSession.KvType.F16)) {
                    cpu.forward(1);
                    cpu.forwardBatch(new int[] {5, 6, 7, 8, 9}, false);
                    cpu.forward(2);
                    cpu.forward(3);
                    assertEquals(GoldenLogitsTest.argmax(cpu.forward(10)), next, "device argmax = CPU argmax");
                }
            }
        }
    }

    /** Every token's logits of a 20-token batch come back 16 at a time, the same as the CPU's. */
    @Test
    void allLogitsOfALongBatchComeBackInChunks() throws Exception {
        int[] tokens = new int[20];
        for (int i = 0; i < tokens.length; i++) {
            tokens[i] = (i * 37 + 1) % 512;
        }
        LlamaOptions o = LlamaOptions.DEFAULTS.withThreads(1).withContextLength(32).withBatchSize(32);
        HostAccelerator acc = host(GIB);
        try (Llama llama = load("stories260K.gguf", o.withGpuLayers(-1), acc); LlamaSession s = llama.newSession();
                LlamaSession cpu = new LlamaSession(llama.model(), Backends.select(), 32, 1, LlamaSession.KvType.F16)) {
            HostAccelerator.Transfers t0 = acc.transfers();
            float[][] dev = s.forwardBatch(tokens, true);
            HostAccelerator.Transfers t = acc.transfers().since(t0);
            assertEquals(1, t.uploads());
            assertEquals(2, t.downloads(), "16 + 4 tokens' logits");
            assertEquals(20L * 4 * llama.config().vocab(), t.downloadBytes());
            float[][] want = cpu.forwardBatch(tokens, true);
            for (int i = 0; i < tokens.length; i++) {
                assertArrayEquals(want[i], dev[i], "token " + i);
            }
        }
    }

    /** Op by op (-Dgguf4j.device.graphs=false) gives the same logits as the recorded graph, bit for bit. */
    @Test
    void withoutGraphsTheLogitsAreTheSame() throws Exception {
        int[] prompt = {1, 403, 407, 261, 378};
        LlamaOptions o = LlamaOptions.DEFAULTS.withThreads(1).withContextLength(32).withBatchSize(2);
        List<float[]> graphs;
        HostAccelerator a = host(GIB);
        try (Llama llama = load("stories260K.gguf", o.withGpuLayers(3), a)) {
            graphs = run(llama, prompt);
        }
        // one-token steps: 12 tokens + the prompt's last chunk (5 = 2 + 2 + 1); the first runs op by op, the
        // second records the graph, and it is replayed from then on
        assertEquals(12, a.graphLaunches());
        System.setProperty("gguf4j.device.graphs", "false");
        HostAccelerator b = host(GIB);
        try (Llama llama = load("stories260K.gguf", o.withGpuLayers(3), b)) {
            List<float[]> ops = run(llama, prompt);
            for (int i = 0; i < ops.size(); i++) {
                assertArrayEquals(graphs.get(i), ops.get(i), "step " + i);
            }
        } finally {
            System.clearProperty("gguf4j.device.graphs");
        }
        assertEquals(0, b.graphLaunches());
    }

    @Test
    void sessionsShareTheWeightsAndFreeTheirOwnMemory() throws Exception {
        HostAccelerator acc = host(GIB);
        try (Llama llama = load("stories260K.gguf", LlamaOptions.DEFAULTS.withThreads(1).withContextLength(32)
                .withGpuLayers(-1), acc)) {
            long weights = acc.usedBytes();
            assertTrue(weights > 0);
            long perSession;
            try (LlamaSession a = llama.newSession()) {
                perSession = acc.usedBytes() - weights;
                try (LlamaSession b = llama.newSession()) {
                    assertEquals(weights + 2 * perSession, acc.usedBytes(), "weights are not uploaded again");
                    assertTrue(a.offloaded() && b.offloaded());
                }
            }
            assertEquals(weights, acc.usedBytes());
            OffloadPlan p = llama.offloadPlan();
            assertEquals(p.needBytes(), weights + perSession + DeviceLayers.libraryScratchBytes(llama.config(), 32),
                    "the plan counts what is allocated, and an estimate of the device library's scratch");
        }
        assertEquals(0, acc.usedBytes());
    }

    // ---- the planner on synthetic sizes -------------------------------------------------------------------------

    /** 10 layers of 100 bytes, output layer 50, KV 10 per layer, scratch 5, logits 20. */
    static final OffloadPlan.Sizes SIZES = new OffloadPlan.Sizes(new long[] {100, 100, 100, 100, 100, 100, 100, 100,
            100, 100}, 50, 10, 5, 20);

    static OffloadPlan auto(long free, long margin) {
        return OffloadPlan.plan(LlamaOptions.GPU_LAYERS_AUTO, SIZES, new DeviceMemory(free, 2 * free + 1000), margin,
                11, "test device");
    }

    @Test
    void plannerNeedsAreWeightsKvAndScratch() {
        assertEquals(0, SIZES.need(0));
        assertEquals(5 + 110, SIZES.need(1));
        assertEquals(5 + 1100, SIZES.need(10));
        assertEquals(5 + 1100 + 50 + 20, SIZES.need(11));
        assertEquals(11, OffloadPlan.effective(-1, 10));
        assertEquals(11, OffloadPlan.effective(99, 10));
        assertEquals(4, OffloadPlan.effective(4, 10));
    }

    @Test
    void autoFitsAllSomeOrNone() {
        OffloadPlan all = auto(10_000, 100);
        assertEquals(11, all.gpuLayers());
        assertTrue(all.outputOnDevice());
        assertEquals(10, all.deviceLayers());

        OffloadPlan some = auto(5 + 4 * 110 + 100 + 50, 100); // 4 layers fit, a fifth would need 110 more
        assertEquals(4, some.gpuLayers());
        assertFalse(some.outputOnDevice());
        assertTrue(some.summary().contains("layers 6..9 on the device"), some.summary());

        OffloadPlan all10 = auto(100 + 1105 + 69, 100); // every layer, but not the output layer (70 more)
        assertEquals(10, all10.gpuLayers());
        assertFalse(all10.outputOnDevice());

        OffloadPlan none = auto(100 + 114, 100);
        assertEquals(0, none.gpuLayers());
        assertFalse(none.offloads());
        assertTrue(none.reason().contains("not even one layer fits"), none.reason());
    }

    @Test
    void autoKeepsTheMarginFreeAndExplicitCountsDoNot() {
        long free = SIZES.need(11);
        assertEquals(11, auto(free, 0).gpuLayers());
        assertEquals(10, auto(free, 1).gpuLayers(), "one byte of margin costs the output layer");
        assertEquals(9, auto(free, 70 + 110).gpuLayers());
        OffloadPlan explicit = OffloadPlan.plan(-1, SIZES, new DeviceMemory(free, free), 1 << 20, 11, "test device");
        assertEquals(11, explicit.gpuLayers(), "an explicit count uses all the free memory");
    }

    @Test
    void autoStopsAtWeightTypesWithoutDeviceKernels() {
        OffloadPlan p = OffloadPlan.plan(LlamaOptions.GPU_LAYERS_AUTO, SIZES, new DeviceMemory(10_000, 10_000), 0, 3,
                "test device");
        assertEquals(3, p.gpuLayers());
        assertTrue(p.reason().contains("weight types"), p.reason());
    }

    @Test
    void anExplicitCountThatDoesNotFitSuggestsOneThatDoes() {
        long free = 5 + 6 * 110 + 30;
        DeviceOutOfMemoryException e = assertThrows(DeviceOutOfMemoryException.class, () -> OffloadPlan.plan(8, SIZES,
                new DeviceMemory(free, 4096), 40, 11, "test device"));
        assertEquals(5, e.suggestedGpuLayers().orElseThrow(), "6 layers fit, 5 with the 40-byte margin");
        assertEquals(SIZES.need(8), e.requestedBytes());
        assertEquals(free, e.freeBytes());
        assertTrue(e.getMessage().startsWith("gpuLayers=8 does not fit the test device: it needs"), e.getMessage());
        assertTrue(e.getMessage().contains("gpuLayers=5 would fit"), e.getMessage());
    }

    // ---- errors --------------------------------------------------------------------------------------------------

    @Test
    void anExplicitCountWithoutGpuSaysWhy() {
        BackendUnavailableException e = assertThrows(BackendUnavailableException.class, () -> Llama.load(
                TestData.model("stories260K.gguf"), LlamaOptions.DEFAULTS.withGpuLayers(3),
                () -> Accelerators.Probe.none("no CUDA driver (test)")));
        assertTrue(e.getMessage().contains("gpuLayers=3") && e.getMessage().contains("no CUDA driver (test)"),
                e.getMessage());
    }

    @Test
    void autoWithoutGpuRunsOnTheCpu() throws Exception {
        try (Llama llama = Llama.load(TestData.model("stories260K.gguf"), LlamaOptions.DEFAULTS.withThreads(1)
                .withContextLength(16).withGpuLayersAuto(), () -> Accelerators.Probe.none("no CUDA driver (test)"))) {
            OffloadPlan p = llama.offloadPlan();
            assertEquals(0, p.gpuLayers());
            assertTrue(p.summary().contains("no usable GPU: no CUDA driver (test)"), p.summary());
            try (LlamaSession s = llama.newSession()) {
                assertFalse(s.offloaded());
                s.forward(1);
            }
        }
    }

    @Test
    void autoWithTheHostDeviceOffloadsEverythingThatFits() throws Exception {
        LlamaOptions o = LlamaOptions.DEFAULTS.withThreads(1).withContextLength(16).withGpuLayersAuto();
        try (Llama llama = load("stories260K.gguf", o, host(GIB))) {
            assertEquals(llama.config().layers() + 1, llama.offloadPlan().gpuLayers());
        }
        // room for the margin, the scratch and two layers
        OffloadPlan.Sizes s;
        try (Llama llama = load("stories260K.gguf", o, host(GIB))) {
            s = llama.offloadPlan().sizes();
        }
        long capacity = OffloadPlan.DEFAULT_MARGIN + s.need(2) + 10;
        try (Llama llama = load("stories260K.gguf", o, host(capacity))) {
            assertEquals(2, llama.offloadPlan().gpuLayers());
            assertTrue(llama.offloadPlan().summary().startsWith("gpu layers auto -> 2: layers 3..4 on the device"),
                    llama.offloadPlan().summary());
        }
    }

    @Test
    void outOfRangeCountsAreRejected() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> LlamaOptions.DEFAULTS.withGpuLayers(-2));
        assertTrue(e.getMessage().contains("out of range"), e.getMessage());
    }

    @Test
    void runningOutOfDeviceMemoryNamesWhatAndSuggestsACount() throws Exception {
        LlamaOptions o = LlamaOptions.DEFAULTS.withThreads(1).withContextLength(16);
        OffloadPlan.Sizes s;
        try (Llama llama = load("stories260K.gguf", o.withGpuLayers(-1), host(GIB))) {
            s = llama.offloadPlan().sizes();
        }
        // the plan is refused up front
        DeviceOutOfMemoryException e = assertThrows(DeviceOutOfMemoryException.class,
                () -> load("stories260K.gguf", o.withGpuLayers(-1), host(s.need(3) + 1)));
        assertEquals(0, e.suggestedGpuLayers().orElseThrow(), "the 512 MiB margin leaves nothing: " + e.getMessage());
        // a device that claims more than it has: the allocation fails, the error names the tensor
        HostAccelerator small = host(s.need(3) + 1);
        Accelerator liar = new Accelerator() {
            public String name() {
                return "lying";
            }

            public String description() {
                return "a device that claims 1 TiB free";
            }

            public DeviceMemory memory() {
                return new DeviceMemory(1L << 40, 1L << 40);
            }

            public boolean supports(GgmlType type) {
                return small.supports(type);
            }

            public DeviceContext open() {
                return small.open();
            }
        };
        DeviceOutOfMemoryException e2 = assertThrows(DeviceOutOfMemoryException.class,
                () -> load("stories260K.gguf", o.withGpuLayers(-1), liar));
        assertTrue(e2.getMessage().contains("blk.") && e2.getMessage().contains("did not fit"), e2.getMessage());
        assertEquals(s.need(3) + 1, e2.freeBytes(), "what the device really had");
        assertEquals(0, e2.suggestedGpuLayers().orElseThrow(), e2.getMessage());
        assertEquals(0, small.usedBytes(), "a failed load frees what it uploaded");
        // a second session whose KV cache does not fit
        HostAccelerator oneSession = host(s.need(6) + 100);
        try (Llama llama = load("stories260K.gguf", o.withGpuLayers(-1), oneSession); LlamaSession a = llama.newSession()) {
            DeviceOutOfMemoryException e3 = assertThrows(DeviceOutOfMemoryException.class, llama::newSession);
            assertTrue(e3.getMessage().startsWith("a new session's KV cache and activations do not fit"), e3.getMessage());
            a.forward(1);
        }
        assertEquals(0, oneSession.usedBytes());
    }

    @Test
    void cudaWithoutGpuFailsCleanlyWithTheProbeReason() {
        org.junit.jupiter.api.Assumptions.assumeFalse(dev.gguf4j.backend.CudaBackend.isAvailable(),
                "a CUDA device is present: this test is about machines without one");
        BackendUnavailableException e = assertThrows(BackendUnavailableException.class,
                () -> dev.gguf4j.backend.CudaAccelerator.open(0));
        String cause = dev.gguf4j.backend.CudaBackend.unavailabilityCause().orElseThrow().getMessage();
        assertTrue(e.getMessage().contains(cause), e.getMessage());
        Accelerators.Probe p = Accelerators.probe();
        assertTrue(p.accelerator().isEmpty());
        assertEquals(cause, p.reason());
    }
}
