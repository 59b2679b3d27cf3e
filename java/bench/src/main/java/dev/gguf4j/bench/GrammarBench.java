package dev.gguf4j.bench;

import dev.gguf4j.grammar.Grammar;
import dev.gguf4j.grammar.TokenVocabulary;
import dev.gguf4j.llama.Llama;
import dev.gguf4j.llama.LlamaOptions;
import dev.gguf4j.engine.LlamaSession;
import dev.gguf4j.sampling.Sampler;
import dev.gguf4j.sampling.SamplingParams;
import dev.gguf4j.tokenizer.Tokenizer;
import java.nio.file.Path;
import java.util.Locale;

/**
 * What the grammar filter costs per generated token: generates N tokens with and without a grammar, one forward
 * pass per token, timing the forward passes and the sampling (sample + accept, the grammar's whole cost) apart, so
 * that the filter's share of generation time does not drown in the forward pass's noise on a shared machine.
 *
 * <pre>
 *   java --enable-native-access=ALL-UNNAMED -cp java/bench/target/gguf4j-bench.jar dev.gguf4j.bench.GrammarBench \
 *       MODEL.gguf [TOKENS] [THREADS] [VOCAB.gguf]
 * </pre>
 *
 * VOCAB.gguf (e.g. ../shared/golden/tokenizer/ggml-vocab-llama-spm.gguf) gives the grammar and the prompt a real
 * vocabulary of the same size in place of a random-weight model's placeholder one (the forward pass does not
 * read token texts).
 *
 * Rounds alternate: none, json_object, a JSON schema, a GBNF grammar; each greedy and at temperature 0.8.
 */
public final class GrammarBench {
    private GrammarBench() {
    }

    static final String SCHEMA = """
            {"type": "array", "items": {"type": "object", "properties": {
               "name": {"type": "string", "maxLength": 40}, "age": {"type": "integer", "minimum": 0, "maximum": 150},
               "tags": {"type": "array", "items": {"enum": ["a", "b", "c"]}}},
             "required": ["name", "age"]}}
            """;
    static final String GBNF = """
            root ::= (line "\\n")+
            line ::= [A-Z] [a-z ,]{10,60} "."
            """;

    public static void main(String[] args) throws Exception {
        Path model = Path.of(args[0]);
        int n = args.length > 1 ? Integer.parseInt(args[1]) : 64;
        int threads = args.length > 2 ? Integer.parseInt(args[2]) : 0;
        Grammar[] grammars = {null, Grammar.jsonObject(), Grammar.fromJsonSchema(SCHEMA), Grammar.parse(GBNF)};
        String[] names = {"none", "json_object", "json_schema", "gbnf"};
        try (Llama llama = Llama.load(model, LlamaOptions.DEFAULTS.withThreads(threads).withContextLength(n + 64))) {
            Tokenizer tok = args.length > 3 ? Tokenizer.load(Path.of(args[3])) : llama.tokenizer();
            if (tok.vocabSize() != llama.tokenizer().vocabSize()) {
                throw new IllegalArgumentException(args[3] + " has " + tok.vocabSize() + " tokens, the model "
                        + llama.tokenizer().vocabSize());
            }
            long t0 = System.nanoTime();
            TokenVocabulary.of(tok);
            System.out.printf(Locale.ROOT, "vocabulary %d tokens; trie built in %.1f ms%n", tok.vocabSize(),
                    (System.nanoTime() - t0) / 1e6);
            int[] prompt = tok.encode("Once upon a time", true, false);
            for (int round = 0; round < 3; round++) {
                for (float temp : new float[] {0f, 0.8f}) {
                    for (int g = 0; g < grammars.length; g++) {
                        SamplingParams sp = SamplingParams.DEFAULTS.withTemperature(temp).withSeed(round)
                                .withGrammar(grammars[g]);
                        long[] r = run(llama, tok, prompt, sp, n);
                        double fwd = r[0] / 1e6 / r[2];
                        double smp = r[1] / 1e6 / r[2];
                        System.out.printf(Locale.ROOT, "round %d temp %.1f %-12s %3d tokens: forward %7.2f ms/token,"
                                + " sampling %6.3f ms/token (%.2f%% of the token's time), %5.1f tokens/s%n",
                                round, temp, names[g], r[2], fwd, smp, 100 * smp / (fwd + smp),
                                1000 / (fwd + smp));
                    }
                }
            }
        }
    }

    /** Forward nanoseconds, sampling nanoseconds, tokens generated. */
    static long[] run(Llama llama, Tokenizer tok, int[] prompt, SamplingParams sp, int n) {
        try (LlamaSession s = llama.newSession()) {
            Sampler sampler = new Sampler(sp, n + 64, tok);
            float[] logits = s.forwardBatch(prompt, false)[0];
            long fwd = 0;
            long smp = 0;
            int made = 0;
            for (int i = 0; i < n; i++) {
                long a = System.nanoTime();
                int t = sampler.sample(logits);
                sampler.acceptSampled(t);
                long b = System.nanoTime();
                smp += b - a;
                made++;
                if (tok.isEog(t)) {
                    break;
                }
                logits = s.forward(t);
                fwd += System.nanoTime() - b;
            }
            return new long[] {fwd, smp, made};
        }
    }
}
