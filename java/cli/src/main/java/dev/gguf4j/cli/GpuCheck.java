package dev.gguf4j.cli;

import dev.gguf4j.gguf.GgufFile;
import dev.gguf4j.llama.Llama;
import dev.gguf4j.llama.LlamaOptions;
import dev.gguf4j.engine.LlamaSession;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * The whole-model GPU check, for a machine with a GPU ({@code cuda/device-check-java.sh}): on the shared golden
 * models, the logits of the prompt (batches of 4) and of 32 greedy tokens, and the greedy tokens themselves,
 * with N = 0, half the layers and everything on the GPU, against the CPU path. Prints one line per model and
 * split; exits 1 if a check fails.
 *
 * <pre>
 *   java --enable-native-access=ALL-UNNAMED -cp 'java/cli/target/gguf4j-cli.jar:java/cli/target/lib/*:CUDA_JAR' \
 *       dev.gguf4j.cli.GpuCheck SHARED_DIR        (-Dgguf4j.device=host runs it through the host device)
 * </pre>
 *
 * Tolerances: the golden tests' against llama.cpp (3e-4 of the logit range for F16/F32 weights, 1.5e-2 for
 * quantized), top-1 equal at every prompt position; greedy tokens equal up to a near-tie (the CPU's margin
 * between the two tokens under 5e-3 of the range), as in GoldenLogitsTest.
 *
 * <p>{@code GpuCheck --models [--context N] M.gguf ...} does the same on other models (the random gemma, gemma2, phi3, Phi-3.5,
 * granite and YaRN models {@code cuda/device-check-java.sh} writes) with a seeded random prompt of 16 tokens and
 * ArchitectureGoldenTest's looser tolerances for the GELU / soft-capped architectures: 2e-3 of the range (5e-2
 * for a file whose name has a quantized type), near-ties 1e-2; {@code --context N} sets the context of the models
 * after it (Phi-3.5 takes its long RoPE factors above 256).
 */
public final class GpuCheck {
    static final String[] GOLDENS = {"stories260K.golden.gguf", "kjv7m-F16.golden.gguf", "kjv7m-Q8_0.golden.gguf",
            "kjv7m-Q4_K_M.golden.gguf"};
    static final int GREEDY = 32;

    private GpuCheck() {
    }

    record Run(List<float[]> logits, int[] greedy) {
    }

    public static void main(String[] args) throws Exception {
        Main.quietLibraryLog();
        int failures = 0;
        if (args.length > 0 && args[0].equals("--models")) {
            int context = 0; // 0: the prompt and the greedy steps
            for (int i = 1; i < args.length; i++) {
                if (args[i].equals("--context") && i + 1 < args.length) {
                    context = Integer.parseInt(args[++i]);
                    continue;
                }
                Path path = Path.of(args[i]);
                int vocab;
                try (GgufFile f = GgufFile.open(path)) {
                    vocab = f.metadata().getArray(dev.gguf4j.gguf.WellKnownKeys.TOKENS).length();
                }
                java.util.SplittableRandom rnd = new java.util.SplittableRandom(11);
                int[] prompt = new int[16];
                for (int j = 0; j < prompt.length; j++) {
                    prompt[j] = rnd.nextInt(vocab);
                }
                String name = path.getFileName().toString();
                boolean quantized = name.contains("-Q") || name.contains("-IQ");
                failures += check(name + (context > 0 ? " c" + context : ""), path, prompt, context,
                        quantized ? 5e-2 : 2e-3, 1e-2);
            }
        } else {
            Path shared = Path.of(args.length > 0 ? args[0] : "../shared");
            for (String golden : GOLDENS) {
                Path g = shared.resolve("golden").resolve(golden);
                if (!Files.exists(g)) {
                    System.out.println("SKIP " + golden + ": not found in " + shared);
                    continue;
                }
                String model;
                int[] prompt;
                try (GgufFile f = GgufFile.open(g)) {
                    model = f.metadata().getString("golden.model_file");
                    prompt = f.requireTensor("prompt.0.tokens").data().toArray(ValueLayout.JAVA_INT);
                }
                failures += check(golden, shared.resolve("models").resolve(model), prompt, 0,
                        golden.contains("Q") ? 1.5e-2 : 3e-4, 5e-3);
            }
        }
        System.out.println(failures == 0 ? "gpu check: all passed" : "gpu check: " + failures + " failed");
        System.exit(failures == 0 ? 0 : 1);
    }

    /**
     * The CPU's logits and greedy tokens for {@code prompt} against -ngl 0, half, all and -1 (context at least
     * {@code context}): max |Δ| / range under {@code tol}, top-1 equal unless within {@code tie} of the range;
     * returns the failed splits.
     */
    static int check(String label, Path path, int[] prompt, int context, double tol, double tie) throws Exception {
        int failures = 0;
        LlamaOptions o = LlamaOptions.DEFAULTS.withContextLength(Math.max(context, prompt.length + GREEDY + 1))
                .withBatchSize(4)
                .withThreads(Math.min(4, Runtime.getRuntime().availableProcessors()));
        Run cpu;
        int n;
        try (Llama llama = Llama.load(path, o)) {
            n = llama.config().layers();
            cpu = run(llama, prompt, null);
        }
        for (int ngl : new int[] {0, Math.max(1, n / 2), n, -1}) {
            long t0 = System.nanoTime();
            try (Llama llama = Llama.load(path, o.withGpuLayers(ngl))) {
                // the prompt and the CPU's greedy tokens: logits compared at every step
                Run dev = run(llama, prompt, cpu.greedy);
                double worst = 0;
                int top1 = 0;
                for (int i = 0; i < cpu.logits.size(); i++) {
                    float[] want = cpu.logits.get(i);
                    float[] got = dev.logits.get(i);
                    double range = range(want);
                    double d = 0;
                    for (int j = 0; j < want.length; j++) {
                        d = Math.max(d, Math.abs(want[j] - got[j]));
                    }
                    worst = Math.max(worst, d / range);
                    if (argmax(want) != argmax(got) && (want[argmax(got)] < want[argmax(want)] - tie * range)) {
                        top1++;
                    }
                }
                // greedy on its own
                Run own = run(llama, prompt, null);
                int agree = 0;
                while (agree < GREEDY && own.greedy[agree] == cpu.greedy[agree]) {
                    agree++;
                }
                boolean tieOk = agree == GREEDY || nearTie(cpu.logits.get(prompt.length - 1 + agree),
                        cpu.greedy[agree], own.greedy[agree], tie);
                boolean ok = worst < tol && top1 == 0 && tieOk;
                failures += ok ? 0 : 1;
                System.out.printf(Locale.ROOT, "%s %-28s -ngl %-3d (%s) max|Δ|/range %.2e (tol %.1e), top-1 misses"
                        + " %d, greedy agrees %d/%d%s, %.1f s%n", ok ? "PASS" : "FAIL", label, ngl,
                        llama.offloadPlan().offloads() ? "layers " + (n - llama.offloadPlan().deviceLayers()) + ".."
                        + (n - 1) + (llama.offloadPlan().outputOnDevice() ? "+output" : "") : "cpu", worst, tol,
                        top1, agree, GREEDY, agree < GREEDY ? (tieOk ? " (near-tie)" : " (NOT a near-tie)") : "",
                        (System.nanoTime() - t0) / 1e9);
            }
        }
        return failures;
    }

    /** Prompt logits (batches), then GREEDY steps feeding {@code force} (or our own argmax) with their logits. */
    static Run run(Llama llama, int[] prompt, int[] force) {
        List<float[]> logits = new ArrayList<>();
        int[] greedy = new int[GREEDY];
        try (LlamaSession s = llama.newSession()) {
            for (int from = 0; from < prompt.length; from += 4) {
                for (float[] l : s.forwardBatch(Arrays.copyOfRange(prompt, from, Math.min(prompt.length, from + 4)), true)) {
                    logits.add(l.clone());
                }
            }
            float[] last = logits.getLast();
            for (int i = 0; i < GREEDY; i++) {
                greedy[i] = argmax(last);
                int next = force != null ? force[i] : greedy[i];
                if (i + 1 < GREEDY) {
                    last = s.forward(next).clone();
                    logits.add(last);
                }
            }
        }
        return new Run(logits, greedy);
    }

    static boolean nearTie(float[] logits, int a, int b, double tie) {
        return Math.abs(logits[a] - logits[b]) < tie * range(logits);
    }

    static double range(float[] v) {
        float lo = Float.POSITIVE_INFINITY;
        float hi = Float.NEGATIVE_INFINITY;
        for (float f : v) {
            lo = Math.min(lo, f);
            hi = Math.max(hi, f);
        }
        return hi - lo;
    }

    static int argmax(float[] v) {
        int best = 0;
        for (int i = 1; i < v.length; i++) {
            if (v[i] > v[best]) {
                best = i;
            }
        }
        return best;
    }
}
