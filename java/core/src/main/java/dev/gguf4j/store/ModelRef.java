package dev.gguf4j.store;

import java.util.Locale;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * A model's name as {@code pull}, {@code -hf} and {@link ModelStore} take it: {@code user/repo[:QUANT]} or
 * {@code hf.co/user/repo[:QUANT]} (also {@code huggingface.co/...}, {@code https://huggingface.co/...}), a Hugging
 * Face model repository holding GGUF files and, optionally, the quantization to pick from it (case-insensitive:
 * {@code Q4_K_M}, {@code q8_0}, {@code q4}). As Ollama's {@code hf.co/user/repo:Q4_K_M} and llama.cpp's
 * {@code -hf user/repo:quant}.
 *
 * @param user  the repository's owner
 * @param repo  the repository's name
 * @param quant the quantization asked for, upper case; empty: the default choice ({@link QuantChoice})
 */
public record ModelRef(String user, String repo, Optional<String> quant) {
    /** How a stored model's host is written: every REF names a Hugging Face repository (or HF_ENDPOINT's mirror). */
    public static final String HOST = "hf.co";
    /** The tag of a REF without a quantization, as Ollama and llama.cpp's {@code -hf} call it. */
    public static final String DEFAULT_TAG = "latest";

    /** Hugging Face's repository name rule: letters, digits, '-', '_', '.'; at most 96 characters. */
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,95}");
    private static final Pattern QUANT = Pattern.compile("[A-Za-z0-9_]{1,40}");

    public ModelRef {
        quant = quant.map(q -> q.toUpperCase(Locale.ROOT));
    }

    /** Parses a REF; a {@link ModelStoreException} names it and the expected form when it is not one. */
    public static ModelRef parse(String ref) {
        String s = ref.strip();
        for (String prefix : new String[] {"https://", "http://"}) {
            if (s.startsWith(prefix)) {
                s = s.substring(prefix.length());
            }
        }
        for (String host : new String[] {"hf.co/", "huggingface.co/", "www.huggingface.co/"}) {
            if (s.regionMatches(true, 0, host, 0, host.length())) {
                s = s.substring(host.length());
                break;
            }
        }
        Optional<String> quant = Optional.empty();
        int colon = s.indexOf(':');
        if (colon >= 0) {
            String q = s.substring(colon + 1);
            s = s.substring(0, colon);
            if (!QUANT.matcher(q).matches()) {
                throw bad(ref, "the quantization '" + q + "' is not a name like Q4_K_M");
            }
            quant = q.equalsIgnoreCase(DEFAULT_TAG) ? Optional.empty() : Optional.of(q);
        }
        String[] parts = s.split("/", -1);
        if (parts.length != 2 || !NAME.matcher(parts[0]).matches() || !NAME.matcher(parts[1]).matches()) {
            throw bad(ref, parts.length != 2 ? "expected USER/REPO" : "a user or repository name may hold letters,"
                    + " digits, '-', '_' and '.' (at most 96)");
        }
        return new ModelRef(parts[0], parts[1], quant);
    }

    private static ModelStoreException bad(String ref, String why) {
        return new ModelStoreException("model reference '" + ref + "': " + why + " (form: user/repo[:QUANT] or"
                + " hf.co/user/repo[:QUANT], e.g. bartowski/Llama-3.2-1B-Instruct-GGUF:Q4_K_M)");
    }

    /** {@code user/repo}. */
    public String repoId() {
        return user + "/" + repo;
    }

    /** The quantization asked for, or {@link #DEFAULT_TAG}. */
    public String tag() {
        return quant.orElse(DEFAULT_TAG);
    }

    /** {@code hf.co/user/repo:TAG}: how the store names a pulled model. */
    @Override
    public String toString() {
        return HOST + "/" + repoId() + ":" + tag();
    }
}
