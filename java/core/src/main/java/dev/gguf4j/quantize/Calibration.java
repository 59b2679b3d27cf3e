package dev.gguf4j.quantize;

import dev.gguf4j.Gguf4jException;
import dev.gguf4j.gguf.GgufFile;
import dev.gguf4j.gguf.GgufMetadata;
import dev.gguf4j.gguf.GgufTensor;
import dev.gguf4j.gguf.GgufValue;
import dev.gguf4j.gguf.GgufValueType;
import dev.gguf4j.gguf.GgufWriter;
import dev.gguf4j.gguf.PartialFile;
import dev.gguf4j.llama.Llama;
import dev.gguf4j.llama.LlamaOptions;
import dev.gguf4j.quality.GramCollector;
import dev.gguf4j.quant.Gptq;
import dev.gguf4j.types.GgmlType;
import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.IntStream;

/**
 * GPTQ's calibration for {@code quantize --search better --calibration PATH}: the factor {@link Gptq#factor} of
 * the Gram matrix of every weight's input, from a text run through the input model (chunks of {@code ctx} tokens
 * from an empty cache, as llama-imatrix; {@link GramCollector}). PATH is that text, or a calibration saved before
 * by {@link #save} ({@code gguf4j calibrate}): a GGUF file whose F32 tensors, named by the weight that owns an
 * input, hold the factors packed by rows ({@link Gptq#packedIndex}), so that quantizing again, to another type
 * or with other options, skips the forward pass, as an imatrix file does for llama-quantize. Tensors it does not
 * reach (token_embd, 3-D expert stacks) keep the per-block search.
 */
public final class Calibration {
    /** Metadata key naming what the file is: {@value #KIND}. */
    public static final String KIND_KEY = "gguf4j.calibration.kind";
    /** The value of {@link #KIND_KEY}: GPTQ factors, packed upper triangles. */
    public static final String KIND = "gptq-factor";
    static final String DAMP_KEY = "gguf4j.calibration.damp";
    static final String MODEL_KEY = "gguf4j.calibration.model";
    static final String TEXT_KEY = "gguf4j.calibration.text";
    static final String CHUNKS_KEY = "gguf4j.calibration.chunks";
    static final String CTX_KEY = "gguf4j.calibration.ctx";
    static final String TOKENS_KEY = "gguf4j.calibration.tokens";
    /** String array of {@code weight=owner}: weights that read the same input as {@code owner} (q/k/v, gate/up). */
    static final String SHARES_KEY = "gguf4j.calibration.shares";

    /**
     * GPTQ factors by input.
     *
     * @param owners  weight name to the name of the weight that owns its input (absent: itself)
     * @param factors owner name to its factor, packed ({@link Gptq#factor})
     * @param model   the model's name (general.name, else its file name)
     * @param source  where the calibration came from (the text's file name)
     */
    public record Factors(Map<String, String> owners, Map<String, float[]> factors, String model, String source,
            int chunks, int ctx, long tokens) {
        /** The factor for {@code weight}'s input, or null when the calibration did not see it. */
        public float[] factor(String weight) {
            return factors.get(owners.getOrDefault(weight, weight));
        }
    }

    private Calibration() {
    }

    /** Whether {@code file} is a GGUF file (a saved calibration), not a text. */
    static boolean isGguf(Path file) throws IOException {
        try (InputStream in = Files.newInputStream(file)) {
            byte[] b = in.readNBytes(4);
            return b.length == 4 && (b[0] & 0xFF | (b[1] & 0xFF) << 8 | (b[2] & 0xFF) << 16 | (b[3] & 0xFF) << 24)
                    == GgufFile.MAGIC;
        }
    }

    /**
     * Runs {@code text} through {@code model} ({@code chunks} chunks of {@code ctx} tokens at most, {@code threads}
     * threads) and factors every input's Gram matrix. {@code note} receives a line on what it did.
     */
    public static Factors compute(Path model, Path text, int ctx, int chunks, int threads,
            java.util.function.Consumer<String> note) throws IOException {
        String s = readText(text);
        long t0 = System.nanoTime();
        GramCollector grams;
        int used;
        String name;
        long tokens;
        try (GgufFile g = GgufFile.open(model)) {
            checkMemory(g);
        }
        try (Llama llama = Llama.load(model, LlamaOptions.DEFAULTS.withContextLength(ctx).withThreads(threads))) {
            name = llama.metadata().findString("general.name").orElse(model.getFileName().toString());
            int[] toks = llama.tokenizer().encode(s, true, false);
            used = Math.min(chunks, toks.length / ctx);
            if (used < 1) {
                throw new Gguf4jException(text + ": the text tokenizes to " + toks.length + " tokens; calibration in"
                        + " chunks of " + ctx + " needs at least " + ctx);
            }
            grams = GramCollector.collect(llama, toks, ctx, used);
            tokens = (long) used * ctx;
        }
        long t1 = System.nanoTime();
        List<String> inputs = new ArrayList<>(grams.inputs());
        Map<String, float[]> factors = new ConcurrentHashMap<>();
        java.util.concurrent.ForkJoinPool pool = new java.util.concurrent.ForkJoinPool(Math.max(1, threads));
        try {
            pool.submit((Runnable) () -> IntStream.range(0, inputs.size()).parallel().forEach(i -> {
                String w = inputs.get(i);
                double[] g = grams.gram(w);
                float[] u = Gptq.factor(g, (int) Math.round(Math.sqrt(g.length)), Gptq.DAMP);
                if (u != null) {
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
        long t2 = System.nanoTime();
        note.accept(String.format(Locale.ROOT, "calibration: %d chunks of %d tokens from %s in %.2f s (Gram %.2f s);"
                + " %d GPTQ factors in %.2f s", used, ctx, text, (t1 - t0) / 1e9, grams.seconds(), factors.size(),
                (t2 - t1) / 1e9));
        Map<String, float[]> ordered = new LinkedHashMap<>();
        for (String w : inputs) {
            if (factors.containsKey(w)) {
                ordered.put(w, factors.get(w));
            }
        }
        return new Factors(Map.copyOf(grams.shares()), ordered, name, text.getFileName().toString(), used, ctx,
                tokens);
    }

    /**
     * Computes the calibration of {@code model} on {@code text} ({@link #compute}) and writes it to {@code out} for
     * {@code quantize --calibration out}: GGUF, the factors as F32 tensors. Returns what it wrote.
     */
    public static Factors save(Path model, Path text, int ctx, int chunks, int threads, Path out,
            java.util.function.Consumer<String> note) throws IOException {
        Factors f = compute(model, text, ctx, chunks, threads, note);
        write(f, out);
        return f;
    }

    static void write(Factors f, Path out) throws IOException {
        List<String> shares = new ArrayList<>();
        new TreeMap<>(f.owners()).forEach((w, o) -> shares.add(w + "=" + o));
        Path tmp = PartialFile.create(out);
        boolean done = false;
        try (GgufWriter w = GgufWriter.create(tmp)) {
            w.put(KIND_KEY, GgufValue.ofString(KIND));
            w.put(DAMP_KEY, GgufValue.ofFloat32((float) Gptq.DAMP));
            w.put(MODEL_KEY, GgufValue.ofString(f.model()));
            w.put(TEXT_KEY, GgufValue.ofString(f.source()));
            w.put(CHUNKS_KEY, GgufValue.ofUInt32(f.chunks()));
            w.put(CTX_KEY, GgufValue.ofUInt32(f.ctx()));
            w.put(TOKENS_KEY, GgufValue.ofUInt64(f.tokens()));
            w.put(SHARES_KEY, GgufValue.ofArray(new GgufValue.GgufArray(GgufValueType.STRING,
                    shares.toArray(String[]::new))));
            for (Map.Entry<String, float[]> e : f.factors().entrySet()) {
                w.addTensor(e.getKey(), GgmlType.F32, new long[] {e.getValue().length},
                        GgufWriter.TensorSource.of(MemorySegment.ofArray(e.getValue())));
            }
            w.finish();
            PartialFile.commit(tmp, out);
            done = true;
        } finally {
            if (!done) {
                Files.deleteIfExists(tmp);
            }
        }
    }

    /** Reads a calibration written by {@link #save}; one-line errors name the file and what is wrong. */
    public static Factors load(Path file) throws IOException {
        try (GgufFile g = GgufFile.load(file)) {
            GgufMetadata md = g.metadata();
            String kind = md.findString(KIND_KEY).orElse(null);
            if (!KIND.equals(kind)) {
                throw new Gguf4jException(file + ": a GGUF file, but not a calibration made by gguf4j calibrate ("
                        + KIND_KEY + " is " + (kind == null ? "missing" : "'" + kind + "'") + ", expected '" + KIND
                        + "')");
            }
            float damp = md.findFloat(DAMP_KEY).orElse(Float.NaN);
            if (damp != (float) Gptq.DAMP) {
                throw new Gguf4jException(file + ": " + DAMP_KEY + " is " + damp + "; this gguf4j factors with "
                        + (float) Gptq.DAMP + " (make the calibration again with gguf4j calibrate)");
            }
            Map<String, float[]> factors = new LinkedHashMap<>();
            for (GgufTensor t : g.tensors()) {
                if (t.type() != GgmlType.F32 || t.shape().length != 1 || Gptq.packedOrder(t.shape()[0]) < 1) {
                    throw new Gguf4jException(file + ": tensor '" + t.name() + "' is " + t.type() + " "
                            + java.util.Arrays.toString(t.shape()) + ", expected F32 [n(n+1)/2] (a packed factor)");
                }
                factors.put(t.name(), t.data().toArray(ValueLayout.JAVA_FLOAT));
            }
            Map<String, String> owners = new LinkedHashMap<>();
            for (String s : md.findArray(SHARES_KEY).map(a -> (String[]) a.values()).orElse(new String[0])) {
                int eq = s.indexOf('=');
                if (eq < 1 || !factors.containsKey(s.substring(eq + 1))) {
                    throw new Gguf4jException(file + ": " + SHARES_KEY + " entry '" + s + "' is not weight=owner with"
                            + " an owner among the file's tensors");
                }
                owners.put(s.substring(0, eq), s.substring(eq + 1));
            }
            return new Factors(owners, factors, md.findString(MODEL_KEY).orElse("?"),
                    md.findString(TEXT_KEY).orElse("?"), md.findLong(CHUNKS_KEY).orElse(0L).intValue(),
                    md.findLong(CTX_KEY).orElse(0L).intValue(), md.findLong(TOKENS_KEY).orElse(0L));
        }
    }

    static ModelQuantizer.Plan withGptq(ModelQuantizer.Plan plan, Path input, QuantizeOptions o,
            ModelQuantizer.Listener listener) throws IOException {
        Path file = o.calibration.get();
        long t0 = System.nanoTime();
        Factors f;
        if (isGguf(file)) {
            f = load(file);
            listener.note(String.format(Locale.ROOT, "calibration: %d GPTQ factors of %s (%d chunks of %d tokens"
                    + " from %s) read from %s in %.2f s", f.factors().size(), f.model(), f.chunks(), f.ctx(),
                    f.source(), file, (System.nanoTime() - t0) / 1e9));
        } else {
            f = compute(input, file, o.calibrationCtx, o.calibrationChunks, o.threads, listener::note);
        }
        List<ModelQuantizer.PlannedTensor> out = new ArrayList<>();
        int gptq = 0;
        List<String> identity = new ArrayList<>();
        for (ModelQuantizer.PlannedTensor t : plan.tensors()) {
            float[] u = wanted(t) ? f.factor(t.name()) : null;
            if (u == null && wanted(t)) {
                u = Gptq.IDENTITY; // no activations seen (token_embd): the block search, its rows' own error
                identity.add(t.name());
            } else if (u != null) {
                gptq++;
            }
            if (u != null) {
                long n = t.source().rowLength();
                if (u != Gptq.IDENTITY && u.length != Gptq.packedSize((int) Math.min(n, Integer.MAX_VALUE))) {
                    throw new Gguf4jException(String.format(Locale.ROOT, "--calibration %s: its factor for %s is"
                            + " %d x %d, but the tensor's rows have %d elements: a calibration of another model"
                            + " (%s) than %s", file, t.name(), Gptq.packedOrder(u.length), Gptq.packedOrder(u.length),
                            n, f.model(), input.getFileName()));
                }
                out.add(new ModelQuantizer.PlannedTensor(t.source(), t.type(), t.convert(), t.reason(), t.bytes(),
                        t.importance(), t.search(), u));
            } else {
                out.add(t);
            }
        }
        listener.note("calibration: GPTQ for " + gptq + " tensors" + (identity.isEmpty() ? "" : "; its block search"
                + " alone (no activations) for " + (identity.size() <= 3 ? String.join(", ", identity)
                        : identity.size() + " tensors")));
        return new ModelQuantizer.Plan(List.copyOf(out), plan.metadata(), plan.bytesBefore(), plan.bytesAfter(),
                plan.parameters());
    }

    private static String readText(Path file) throws IOException {
        try {
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(java.nio.ByteBuffer.wrap(Files.readAllBytes(file))).toString();
        } catch (CharacterCodingException e) {
            throw new Gguf4jException(file + ": not UTF-8 text (nor a calibration GGUF file)");
        }
    }

    /**
     * Refuses a model whose Gram matrices (a packed float triangle per distinct input, all held until the pass
     * ends) would not fit in half the heap: this GPTQ is for models whose matrices are a few thousand columns wide
     * at most.
     */
    private static void checkMemory(GgufFile model) {
        Map<String, Long> inputs = new LinkedHashMap<>();
        for (GgufTensor t : model.tensors()) {
            if (t.shape().length == 2 && t.name().endsWith(".weight") && !t.name().startsWith("token_embd")) {
                // q/k/v and gate/up read one input each
                String key = t.name().replaceAll("attn_(q|k|v)\\.", "attn_qkv.").replaceAll("ffn_(gate|up)\\.",
                        "ffn_gate_up.");
                inputs.put(key, Gptq.packedSize((int) t.shape()[0]) * Float.BYTES);
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
