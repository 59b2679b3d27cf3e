package dev.gguf4j.cli;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.DoubleAdder;
import java.util.function.DoubleSupplier;
import java.util.function.LongSupplier;

/**
 * {@code gguf4j serve}'s metrics, written by {@code GET /metrics} in Prometheus' text exposition format (version
 * 0.0.4). A small dependency-free registry: counters (optionally labelled) and gauges (set, or read from a supplier
 * when scraped). The server counts requests and tokens here; the generation engine updates the queue, sequence
 * and KV-cache gauges ({@link #queueDepth}, {@link #activeSequences}, {@link #kvCacheUsedCells}).
 */
final class ServeMetrics {
    /** A counter family: one value per label-value tuple (none for an unlabelled counter). */
    static final class Counter {
        final String name;
        final String help;
        final List<String> labels;
        private final Map<List<String>, DoubleAdder> values = new ConcurrentHashMap<>();

        Counter(String name, String help, List<String> labels) {
            this.name = name;
            this.help = help;
            this.labels = List.copyOf(labels);
            if (labels.isEmpty()) {
                values.put(List.of(), new DoubleAdder());
            }
        }

        /** Adds {@code n} (>= 0) to the series with these label values (as many as the family's labels). */
        void add(double n, String... labelValues) {
            if (labelValues.length != labels.size() || n < 0) {
                throw new IllegalArgumentException(name + ": " + labels.size() + " labels, a non-negative amount");
            }
            values.computeIfAbsent(List.of(labelValues), k -> new DoubleAdder()).add(n);
        }

        void inc(String... labelValues) {
            add(1, labelValues);
        }

        double get(String... labelValues) {
            DoubleAdder a = values.get(List.of(labelValues));
            return a == null ? 0 : a.sum();
        }
    }

    /** A gauge: a value set by its owner, or read from a supplier when scraped. */
    static final class Gauge {
        final String name;
        final String help;
        private volatile double value;
        private volatile DoubleSupplier supplier;

        Gauge(String name, String help) {
            this.name = name;
            this.help = help;
        }

        void set(double v) {
            supplier = null;
            value = v;
        }

        /** Read from {@code s} at each scrape (e.g. the engine's own count). */
        void track(DoubleSupplier s) {
            supplier = s;
        }

        double get() {
            DoubleSupplier s = supplier;
            return s != null ? s.getAsDouble() : value;
        }
    }

    private final List<Object> families = new ArrayList<>(); // Counter or Gauge, in registration order

    final Counter requests = counter("gguf4j_requests_total",
            "HTTP requests answered, by endpoint and status", "endpoint", "status");
    final Counter promptTokens = counter("gguf4j_prompt_tokens_total", "Prompt tokens of completed requests");
    final Counter generatedTokens = counter("gguf4j_generated_tokens_total",
            "Tokens generated, counted as they are sampled");
    final Counter embeddingInputs = counter("gguf4j_embedding_inputs_total",
            "Inputs embedded by /v1/embeddings, /api/embed and /api/embeddings (their tokens count as prompt tokens)");
    final Gauge tokensPerSecond = gauge("gguf4j_generated_tokens_per_second",
            "Tokens generated per second over the last " + ServeMetrics.WINDOW_SECONDS + " s");
    final Gauge queueDepth = gauge("gguf4j_queue_depth", "Requests waiting for a sequence");
    final Gauge activeSequences = gauge("gguf4j_active_sequences",
            "Sequences generating now (or evaluating their prompt)");
    final Gauge parallelSequences = gauge("gguf4j_parallel_sequences", "Sequences that may generate at once (-np)");
    final Gauge kvCacheUsedCells = gauge("gguf4j_kv_cache_used_cells",
            "KV-cache cells (token positions) held by the sequences in progress and the kept chat caches");
    final Gauge kvCacheCells = gauge("gguf4j_kv_cache_cells",
            "KV-cache cells (token positions) allocated: the batching slots, and the sessions of their own");
    final Gauge modelLoaded = gauge("gguf4j_model_loaded", "1 once the model is loaded");

    static final int WINDOW_SECONDS = 10;
    private final AtomicLongArray tokenSeconds = new AtomicLongArray(WINDOW_SECONDS + 1); // tokens per second slot
    private final AtomicLongArray slotSecond = new AtomicLongArray(WINDOW_SECONDS + 1); // which second a slot holds

    ServeMetrics() {
        tokensPerSecond.track(this::recentTokensPerSecond);
    }

    synchronized Counter counter(String name, String help, String... labels) {
        Counter c = new Counter(name, help, List.of(labels));
        families.add(c);
        return c;
    }

    synchronized Gauge gauge(String name, String help) {
        Gauge g = new Gauge(name, help);
        families.add(g);
        return g;
    }

    private volatile LongSupplier engineGenerated; // the engine's running count of generated tokens, if tracked
    private long engineSeen; // guarded by this: the part of it already added

    /**
     * A request's token counts, once it has them (generated tokens also feed the tokens/s gauge, unless the engine's
     * own count is tracked: then they were counted as they were sampled).
     */
    void tokens(int prompt, int generated) {
        promptTokens.add(Math.max(0, prompt));
        if (engineGenerated == null) {
            generated(Math.max(0, generated));
        }
    }

    /**
     * Generated tokens from now on come from the engine's running count ({@code total}), read by {@link #poll} (each
     * second, by the server's ticker) and at every scrape, so that the count and tokens/s move while requests run.
     */
    synchronized void trackGenerated(LongSupplier total) {
        engineSeen = total.getAsLong();
        engineGenerated = total;
    }

    /** Adds the tokens the engine generated since the last poll. */
    synchronized void poll() {
        LongSupplier s = engineGenerated;
        if (s != null) {
            long now = s.getAsLong();
            if (now > engineSeen) {
                generated((int) Math.min(Integer.MAX_VALUE, now - engineSeen));
            }
            engineSeen = Math.max(engineSeen, now);
        }
    }

    /** Tokens generated just now (the engine may call this per step for a live tokens/s; then not via tokens). */
    void generated(int n) {
        generatedTokens.add(n);
        long sec = System.nanoTime() / 1_000_000_000L;
        int i = (int) (sec % tokenSeconds.length());
        long held = slotSecond.get(i);
        if (held != sec && slotSecond.compareAndSet(i, held, sec)) {
            tokenSeconds.set(i, 0);
        }
        tokenSeconds.addAndGet(i, n);
    }

    private double recentTokensPerSecond() {
        long now = System.nanoTime() / 1_000_000_000L;
        long sum = 0;
        for (int i = 0; i < tokenSeconds.length(); i++) {
            long s = slotSecond.get(i);
            if (s <= now && s > now - WINDOW_SECONDS) { // the last WINDOW_SECONDS seconds, this one included
                sum += tokenSeconds.get(i);
            }
        }
        return sum / (double) WINDOW_SECONDS;
    }

    /** The text exposition format: HELP and TYPE lines, then one line per series. */
    synchronized String scrape() {
        poll();
        StringBuilder sb = new StringBuilder();
        for (Object f : families) {
            if (f instanceof Counter c) {
                sb.append("# HELP ").append(c.name).append(' ').append(c.help).append('\n');
                sb.append("# TYPE ").append(c.name).append(" counter\n");
                c.values.entrySet().stream().sorted(Map.Entry.comparingByKey((a, b) -> a.toString()
                        .compareTo(b.toString()))).forEach(e -> {
                            sb.append(c.name);
                            if (!c.labels.isEmpty()) {
                                sb.append('{');
                                for (int i = 0; i < c.labels.size(); i++) {
                                    sb.append(i == 0 ? "" : ",").append(c.labels.get(i)).append("=\"")
                                            .append(escape(e.getKey().get(i))).append('"');
                                }
                                sb.append('}');
                            }
                            sb.append(' ').append(number(e.getValue().sum())).append('\n');
                        });
            } else if (f instanceof Gauge g) {
                sb.append("# HELP ").append(g.name).append(' ').append(g.help).append('\n');
                sb.append("# TYPE ").append(g.name).append(" gauge\n");
                sb.append(g.name).append(' ').append(number(g.get())).append('\n');
            }
        }
        return sb.toString();
    }

    private static String escape(String v) {
        return v.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n");
    }

    private static String number(double d) {
        if (d == Math.rint(d) && Math.abs(d) < 1e15) {
            return Long.toString((long) d);
        }
        return Double.isNaN(d) ? "NaN" : String.format(Locale.ROOT, "%.6g", d);
    }
}
