package dev.gguf4j.testing;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reading the vectors out of llama-embedding's JSON output ({@code --embd-output-format json}, the goldens in
 * {@code tests/golden/embeddings}; gguf4j embed writes the same shape) and comparing them: one definition for the
 * core, CLI and server embedding tests.
 */
public final class EmbeddingVectors {
    private static final Pattern VECTOR = Pattern.compile("\"embedding\": ?\\[([^\\]]*)\\]");

    private EmbeddingVectors() {
    }

    /** Every {@code "embedding": [...]} array of {@code json}, in order. */
    public static List<float[]> parse(String json) {
        List<float[]> out = new ArrayList<>();
        Matcher m = VECTOR.matcher(json);
        while (m.find()) {
            String[] parts = m.group(1).split(",");
            float[] v = new float[parts.length];
            for (int i = 0; i < v.length; i++) {
                v[i] = Float.parseFloat(parts[i].trim());
            }
            out.add(v);
        }
        return out;
    }

    /** Cosine similarity, products and sums in double. */
    public static double cosine(float[] a, float[] b) {
        double ab = 0;
        double aa = 0;
        double bb = 0;
        for (int i = 0; i < a.length; i++) {
            ab += (double) a[i] * b[i];
            aa += (double) a[i] * a[i];
            bb += (double) b[i] * b[i];
        }
        return ab / Math.sqrt(aa * bb);
    }
}
