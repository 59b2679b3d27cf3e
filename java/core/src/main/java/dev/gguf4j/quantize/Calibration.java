package dev.gguf4j.quantize;

import dev.gguf4j.Gguf4jException;
import dev.gguf4j.llama.Llama;
import dev.gguf4j.llama.LlamaOptions;
import dev.gguf4j.quality.GramCollector;
import dev.gguf4j.quant.Gptq;
import java.io.IOException;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.IntStream;

/**
 * The calibration pass of {@code quantize --search better --calibration TEXT}: runs the text through the input
 * model (chunks of {@code ctx} tokens from an empty cache, as llama-imatrix), collects the Gram matrix of every
 * weight's input ({@link GramCollector}), and gives each planned k-quant tensor whose input was seen its GPTQ
 * factor ({@link Gptq#factor}). Tensors it does not reach (token_embd, 3-D expert stacks) keep the per-block
 * search.
 */
final class Calibration {
    private Calibration() {
    }

    static ModelQuantizer.Plan withGptq(ModelQuantizer.Plan plan, java.nio.file.Path input, QuantizeOptions o,
            ModelQuantizer.Listener listener) throws IOException {
        java.nio.file.Path file = o.calibration.get();
        String text;
        try {
            text = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(java.nio.ByteBuffer.wrap(Files.readAllBytes(file))).toString();
        } catch (CharacterCodingException e) {
            throw new Gguf4jException(file + ": not UTF-8 text");
        }
        checkMemory(plan);
        long t0 = System.nanoTime();
        GramCollector grams;
        int chunks;
        try (Llama llama = Llama.load(input, LlamaOptions.DEFAULTS.withContextLength(o.calibrationCtx)
                .withThreads(o.threads))) {
            int[] tokens = llama.tokenizer().encode(text, true, false);
            chunks = Math.min(o.calibrationChunks, tokens.length / o.calibrationCtx);
            if (chunks < 1) {
                throw new Gguf4jException(file + ": the text tokenizes to " + tokens.length + " tokens; calibration in"
                        + " chunks of " + o.calibrationCtx + " needs at least " + o.calibrationCtx);
            }
            grams = GramCollector.collect(llama, tokens, o.calibrationCtx, chunks);
        }
        long t1 = System.nanoTime();
        // one factor per distinct input, computed in parallel
        List<ModelQuantizer.PlannedTensor> ts = plan.tensors();
        Map<String, Integer> owners = new HashMap<>();
        for (ModelQuantizer.PlannedTensor t : ts) {
            if (wanted(t) && grams.gram(t.name()) != null) {
                owners.putIfAbsent(grams.owner(t.name()), Math.toIntExact(t.source().rowLength()));
            }
        }
        List<String> names = new ArrayList<>(owners.keySet());
        Map<String, float[]> factors = new ConcurrentHashMap<>();
        java.util.concurrent.ForkJoinPool pool = new java.util.concurrent.ForkJoinPool(o.threads);
        try {
            pool.submit((Runnable) () -> IntStream.range(0, names.size()).parallel().forEach(i -> {
                String w = names.get(i);
                double[] g = grams.gram(w);
                int n = (int) Math.round(Math.sqrt(g.length));
                float[] u = Gptq.factor(g, n, Gptq.DAMP);
                if (u != null && n == owners.get(w)) {
                    factors.put(w, u);
                }
            })).get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", e);
        } catch (java.util.concurrent.ExecutionException e) {
            if (e.getCause() instanceof RuntimeException re) {
                throw re;
            }
            throw new IOException(e.getCause());
        } finally {
            pool.shutdown();
        }
        List<ModelQuantizer.PlannedTensor> out = new ArrayList<>();
        int used = 0;
        for (ModelQuantizer.PlannedTensor t : ts) {
            float[] u = wanted(t) ? factors.get(grams.owner(t.name())) : null;
            if (u != null) {
                used++;
                out.add(new ModelQuantizer.PlannedTensor(t.source(), t.type(), t.convert(), t.reason(), t.bytes(),
                        t.importance(), t.search(), u));
            } else {
                out.add(t);
            }
        }
        long t2 = System.nanoTime();
        listener.note(String.format(Locale.ROOT, "calibration: %d chunks of %d tokens from %s in %.2f s (Gram %.2f s); GPTQ for %d"
                + " tensors (%d inputs, factors in %.2f s)", chunks, o.calibrationCtx, file, (t1 - t0) / 1e9, grams.seconds(), used,
                factors.size(), (t2 - t1) / 1e9));
        return new ModelQuantizer.Plan(List.copyOf(out), plan.metadata(), plan.bytesBefore(), plan.bytesAfter(),
                plan.parameters());
    }

    /**
     * Refuses a model whose Gram matrices (n x n doubles per distinct input, all held until the pass ends) would
     * not fit in half the heap: this GPTQ is for models whose matrices are a few thousand columns wide at most.
     */
    private static void checkMemory(ModelQuantizer.Plan plan) {
        Map<String, Long> inputs = new HashMap<>();
        for (ModelQuantizer.PlannedTensor t : plan.tensors()) {
            if (wanted(t)) {
                // q/k/v and gate/up read one input each
                String key = t.name().replaceAll("attn_(q|k|v)\\.", "attn_qkv.").replaceAll("ffn_(gate|up)\\.",
                        "ffn_gate_up.");
                long n = t.source().rowLength();
                inputs.put(key, n * n * 8);
            }
        }
        long need = inputs.values().stream().mapToLong(Long::longValue).sum();
        long max = Runtime.getRuntime().maxMemory();
        if (need > max / 2) {
            throw new Gguf4jException(String.format(Locale.ROOT, "--calibration: the Gram matrices of this model need"
                    + " about %.1f GiB, more than half the Java heap (%.1f GiB): GPTQ here is for small models (raise"
                    + " -Xmx through GGUF4J_JAVA_OPTS, or quantize without --calibration)", need / 1073741824.0,
                    max / 1073741824.0));
        }
    }

    private static boolean wanted(ModelQuantizer.PlannedTensor t) {
        return t.convert() && Gptq.covers(t.type()) && t.source().dim(2) <= 1 && t.source().dim(3) <= 1;
    }
}
