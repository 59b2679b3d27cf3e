package dev.gguf4j.quantize;

import static dev.gguf4j.quantize.TensorRole.ATTN_K;
import static dev.gguf4j.quantize.TensorRole.ATTN_OUTPUT;
import static dev.gguf4j.quantize.TensorRole.ATTN_Q;
import static dev.gguf4j.quantize.TensorRole.ATTN_QKV;
import static dev.gguf4j.quantize.TensorRole.ATTN_V;
import static dev.gguf4j.quantize.TensorRole.FFN_DOWN;
import static dev.gguf4j.quantize.TensorRole.FFN_GATE;
import static dev.gguf4j.quantize.TensorRole.FFN_UP;
import static dev.gguf4j.quantize.TensorRole.OUTPUT;
import static dev.gguf4j.quantize.TensorRole.TOKEN_EMBD;
import static dev.gguf4j.types.FileType.MOSTLY_IQ1_M;
import static dev.gguf4j.types.FileType.MOSTLY_IQ1_S;
import static dev.gguf4j.types.FileType.MOSTLY_IQ2_M;
import static dev.gguf4j.types.FileType.MOSTLY_IQ2_S;
import static dev.gguf4j.types.FileType.MOSTLY_IQ2_XS;
import static dev.gguf4j.types.FileType.MOSTLY_IQ2_XXS;
import static dev.gguf4j.types.FileType.MOSTLY_IQ3_M;
import static dev.gguf4j.types.FileType.MOSTLY_IQ3_S;
import static dev.gguf4j.types.FileType.MOSTLY_IQ3_XS;
import static dev.gguf4j.types.FileType.MOSTLY_IQ3_XXS;
import static dev.gguf4j.types.FileType.MOSTLY_IQ4_NL;
import static dev.gguf4j.types.FileType.MOSTLY_IQ4_XS;
import static dev.gguf4j.types.FileType.MOSTLY_Q2_K;
import static dev.gguf4j.types.FileType.MOSTLY_Q2_K_S;
import static dev.gguf4j.types.FileType.MOSTLY_Q3_K_L;
import static dev.gguf4j.types.FileType.MOSTLY_Q3_K_M;
import static dev.gguf4j.types.FileType.MOSTLY_Q3_K_S;
import static dev.gguf4j.types.FileType.MOSTLY_Q4_0;
import static dev.gguf4j.types.FileType.MOSTLY_Q4_K_M;
import static dev.gguf4j.types.FileType.MOSTLY_Q4_K_S;
import static dev.gguf4j.types.FileType.MOSTLY_Q5_0;
import static dev.gguf4j.types.FileType.MOSTLY_Q5_K_M;
import static dev.gguf4j.types.FileType.MOSTLY_Q8_0;
import static dev.gguf4j.types.FileType.MOSTLY_TQ1_0;
import static dev.gguf4j.types.FileType.MOSTLY_TQ2_0;

import dev.gguf4j.types.FileType;
import dev.gguf4j.types.GgmlType;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Predicate;

/**
 * llama.cpp's type-mixture policy as data: {@code llama_tensor_get_type} and the {@code default_type} switch of
 * {@code llama_model_quantize_impl} in {@code src/llama-quant.cpp} (llama.cpp c392e50). Line numbers below are of
 * that file.
 *
 * <p>Each {@link Rule} is (tensor role × file types × conditions → type). For a tensor, the rules of its role are
 * tried in table order and the first whose file types and conditions all hold decides; when none holds the tensor
 * keeps the file type's default type. This first-match order is llama.cpp's {@code if / else if} chain: within a
 * role's branch the chain's tests name disjoint file types, so a failed inner test never falls through to another
 * rule for the same file type (where it could, the table says so with an explicit condition). {@link Adjust}ments
 * are the two unconditional tweaks llama.cpp applies to {@code attn_v} after its chain.
 */
final class MixtureRules {
    private MixtureRules() {
    }

    /** What the conditions look at: the model, the tensor's position and the counters of the state machine. */
    record Ctx(
            FileType ftype,
            GgmlType defaultType,
            String arch,
            int nGqa,
            int nExpert,
            boolean model70B,
            boolean hasImatrix,
            long ne0,
            // layer of an ffn_* tensor as layer_info sees it (the counter, or from the name with experts)
            int iLayer,
            int nLayer,
            // attn_v tensors seen so far (qs.i_attention_wv) and in all (qs.n_attention_wv)
            int iAttnWv,
            int nAttnWv,
            // ffn_down tensors seen so far (qs.i_ffn_down), used raw by the low-bit IQ branch
            int iFfnDown,
            int nFfnDown) {
        boolean falcon() {
            return "falcon".equals(arch);
        }
    }

    /** Conditions a rule can require (all of a rule's conditions must hold). */
    enum Cond {
        /** {@code qs.model.hparams.n_gqa() >= 4}: n_head / n_head_kv of layer 0 (0 when n_head_kv is 0). */
        GQA_4("n_gqa >= 4", c -> c.nGqa() >= 4),
        /** Low-bit IQ branch, line 191: {@code n_gqa() >= 4 || n_expert >= 4}. */
        GQA_4_OR_EXPERTS_4("n_gqa >= 4 or n_expert >= 4", c -> c.nGqa() >= 4 || c.nExpert() >= 4),
        EXPERTS_8("n_expert == 8", c -> c.nExpert() == 8),
        NOT_EXPERTS_8("n_expert != 8", c -> c.nExpert() != 8),
        FALCON("falcon", MixtureRules.Ctx::falcon),
        NOT_FALCON("not falcon", c -> !c.falcon()),
        NO_IMATRIX("no imatrix", c -> !c.hasImatrix()),
        IMATRIX("with imatrix", MixtureRules.Ctx::hasImatrix),
        /** {@code qs.model.type == LLM_TYPE_70B} (see {@link QuantPolicy.Model#is70B()}). */
        MODEL_70B("70B model", MixtureRules.Ctx::model70B),
        /** attn_v counters: {@code qs.i_attention_wv < 2}. */
        FIRST_2_ATTN_V("attn_v #%d < 2", c -> c.iAttnWv() < 2),
        FIRST_4_ATTN_V("attn_v #%d < 4", c -> c.iAttnWv() < 4),
        ATTN_V_MORE_BITS("use_more_bits(attn_v #%d of %d)", c -> QuantPolicy.useMoreBits(c.iAttnWv(), c.nAttnWv())),
        /** ffn layer tests ({@code layer_info}). */
        FIRST_16TH("layer %d < n_layer/16", c -> c.iLayer() < c.nLayer() / 16),
        FIRST_8TH("layer %d < n_layer/8", c -> c.iLayer() < c.nLayer() / 8),
        MORE_BITS("use_more_bits(layer %d of %d)", c -> QuantPolicy.useMoreBits(c.iLayer(), c.nLayer())),
        MIDDLE("layer %d in [n_layer/8, 7*n_layer/8)",
                c -> c.iLayer() >= c.nLayer() / 8 && c.iLayer() < 7 * c.nLayer() / 8),
        /** Low-bit IQ branch, line 199: the raw ffn_down counter, not {@code layer_info}. */
        FIRST_8TH_FFN_DOWN("ffn_down #%d < n_layer/8", c -> c.iFfnDown() < c.nFfnDown() / 8),
        /** Output, line 158: the row length is not a multiple of the default type's block. */
        ROW_NOT_DEFAULT_BLOCKS("ne[0]=%d not a multiple of the default block",
                c -> c.ne0() % c.defaultType().blockSize() != 0);

        private final String text;
        private final Predicate<Ctx> test;

        Cond(String text, Predicate<Ctx> test) {
            this.text = text;
            this.test = test;
        }

        boolean test(Ctx c) {
            return test.test(c);
        }

        String describe(Ctx c) {
            return switch (this) {
                case FIRST_2_ATTN_V, FIRST_4_ATTN_V -> text.formatted(c.iAttnWv());
                case ATTN_V_MORE_BITS -> text.formatted(c.iAttnWv(), c.nAttnWv());
                case FIRST_16TH, FIRST_8TH, MIDDLE -> text.formatted(c.iLayer());
                case MORE_BITS -> text.formatted(c.iLayer(), c.nLayer());
                case FIRST_8TH_FFN_DOWN -> text.formatted(c.iFfnDown());
                case ROW_NOT_DEFAULT_BLOCKS -> text.formatted(c.ne0());
                default -> text;
            };
        }
    }

    /**
     * One row of the table. {@code to == null} means "keep the type chosen so far" (a row that only stops the
     * search, as an {@code else if} that matches but changes nothing does).
     */
    record Rule(TensorRole role, Set<FileType> ftypes, GgmlType to, String why, List<Cond> when) {
        boolean matches(Ctx c) {
            if (!ftypes.contains(c.ftype())) {
                return false;
            }
            for (Cond k : when) {
                if (!k.test(c)) {
                    return false;
                }
            }
            return true;
        }

        String describe(Ctx c) {
            StringBuilder sb = new StringBuilder(why);
            for (Cond k : when) {
                sb.append(sb.isEmpty() ? "" : ", ").append(k.describe(c));
            }
            return sb.toString();
        }
    }

    /** A tweak applied after the chain: when the type so far is in {@code from} (empty: any) and all {@code when}. */
    record Adjust(TensorRole role, Set<FileType> ftypes, Set<GgmlType> from, GgmlType to, String why, List<Cond> when) {
        boolean matches(Ctx c, GgmlType current) {
            return ftypes.contains(c.ftype()) && (from.isEmpty() || from.contains(current))
                    && when.stream().allMatch(k -> k.test(c));
        }
    }

    // ---- file type groups ----------------------------------------------------------------------------------

    /** The very-low-bit IQ types that take their own branch of the chain (line 188). */
    static final Set<FileType> IQ_LOW = EnumSet.of(MOSTLY_IQ2_XXS, MOSTLY_IQ2_XS, MOSTLY_IQ1_S, MOSTLY_IQ2_S,
            MOSTLY_IQ2_M, MOSTLY_IQ1_M);

    /** Every file type whose default type is quantized: those llama_tensor_get_type runs for (line 778). */
    static final Set<FileType> QUANTIZED = EnumSet.noneOf(FileType.class);

    /** The file types outside {@link #IQ_LOW}: those that reach the general chain (line 212 on). */
    static final Set<FileType> GENERAL = EnumSet.noneOf(FileType.class);

    private static final Map<FileType, GgmlType> DEFAULT_TYPE = new EnumMap<>(FileType.class);

    static {
        // llama_model_quantize_impl's switch (lines 470-505): the type of every tensor that the mixture rules
        // leave alone. Note IQ2_S → IQ2_XS, IQ2_M → IQ2_S, IQ3_XS and IQ3_M → IQ3_S.
        DEFAULT_TYPE.put(FileType.ALL_F32, GgmlType.F32);
        DEFAULT_TYPE.put(FileType.MOSTLY_F16, GgmlType.F16);
        DEFAULT_TYPE.put(FileType.MOSTLY_BF16, GgmlType.BF16);
        DEFAULT_TYPE.put(FileType.MOSTLY_Q4_0, GgmlType.Q4_0);
        DEFAULT_TYPE.put(FileType.MOSTLY_Q4_1, GgmlType.Q4_1);
        DEFAULT_TYPE.put(FileType.MOSTLY_Q5_0, GgmlType.Q5_0);
        DEFAULT_TYPE.put(FileType.MOSTLY_Q5_1, GgmlType.Q5_1);
        DEFAULT_TYPE.put(FileType.MOSTLY_Q8_0, GgmlType.Q8_0);
        DEFAULT_TYPE.put(FileType.MOSTLY_Q2_K, GgmlType.Q2_K);
        DEFAULT_TYPE.put(FileType.MOSTLY_Q2_K_S, GgmlType.Q2_K);
        DEFAULT_TYPE.put(FileType.MOSTLY_IQ3_XS, GgmlType.IQ3_S);
        DEFAULT_TYPE.put(FileType.MOSTLY_Q3_K_S, GgmlType.Q3_K);
        DEFAULT_TYPE.put(FileType.MOSTLY_Q3_K_M, GgmlType.Q3_K);
        DEFAULT_TYPE.put(FileType.MOSTLY_Q3_K_L, GgmlType.Q3_K);
        DEFAULT_TYPE.put(FileType.MOSTLY_Q4_K_S, GgmlType.Q4_K);
        DEFAULT_TYPE.put(FileType.MOSTLY_Q4_K_M, GgmlType.Q4_K);
        DEFAULT_TYPE.put(FileType.MOSTLY_Q5_K_S, GgmlType.Q5_K);
        DEFAULT_TYPE.put(FileType.MOSTLY_Q5_K_M, GgmlType.Q5_K);
        DEFAULT_TYPE.put(FileType.MOSTLY_Q6_K, GgmlType.Q6_K);
        DEFAULT_TYPE.put(FileType.MOSTLY_TQ1_0, GgmlType.TQ1_0);
        DEFAULT_TYPE.put(FileType.MOSTLY_TQ2_0, GgmlType.TQ2_0);
        DEFAULT_TYPE.put(FileType.MOSTLY_IQ2_XXS, GgmlType.IQ2_XXS);
        DEFAULT_TYPE.put(FileType.MOSTLY_IQ2_XS, GgmlType.IQ2_XS);
        DEFAULT_TYPE.put(FileType.MOSTLY_IQ2_S, GgmlType.IQ2_XS);
        DEFAULT_TYPE.put(FileType.MOSTLY_IQ2_M, GgmlType.IQ2_S);
        DEFAULT_TYPE.put(FileType.MOSTLY_IQ3_XXS, GgmlType.IQ3_XXS);
        DEFAULT_TYPE.put(FileType.MOSTLY_IQ1_S, GgmlType.IQ1_S);
        DEFAULT_TYPE.put(FileType.MOSTLY_IQ1_M, GgmlType.IQ1_M);
        DEFAULT_TYPE.put(FileType.MOSTLY_IQ4_NL, GgmlType.IQ4_NL);
        DEFAULT_TYPE.put(FileType.MOSTLY_IQ4_XS, GgmlType.IQ4_XS);
        DEFAULT_TYPE.put(FileType.MOSTLY_IQ3_S, GgmlType.IQ3_S);
        DEFAULT_TYPE.put(FileType.MOSTLY_IQ3_M, GgmlType.IQ3_S);
        for (Map.Entry<FileType, GgmlType> e : DEFAULT_TYPE.entrySet()) {
            if (e.getValue().isQuantized()) {
                QUANTIZED.add(e.getKey());
                if (!IQ_LOW.contains(e.getKey())) {
                    GENERAL.add(e.getKey());
                }
            }
        }
    }

    static GgmlType defaultType(FileType ftype) {
        GgmlType t = DEFAULT_TYPE.get(ftype);
        if (t == null) {
            throw new IllegalArgumentException("no default type for " + ftype); // every FileType has one
        }
        return t;
    }

    private static Set<FileType> ft(FileType first, FileType... rest) {
        return EnumSet.of(first, rest);
    }

    private static Rule rule(TensorRole role, Set<FileType> ftypes, GgmlType to, String why, Cond... when) {
        return new Rule(role, Set.copyOf(ftypes), to, why, List.of(when));
    }

    // ---- the table ---------------------------------------------------------------------------------------

    /** The rules, grouped by role, each group in llama.cpp's order. */
    static final List<Rule> RULES = List.of(
            // --- output.weight, or token_embd.weight of a tied model (lines 151-169). The --output-tensor-type
            // option is applied by QuantPolicy before this table.
            rule(OUTPUT, QUANTIZED, GgmlType.Q8_0, "falcon output", Cond.FALCON),
            // a row length the default type cannot block (e.g. 4160 under a K-quant): 8-bit, block 32
            rule(OUTPUT, QUANTIZED, GgmlType.Q8_0, "", Cond.ROW_NOT_DEFAULT_BLOCKS),
            // the very-low-bit mixes (and IQ3_XXS) keep the output at 5 bits
            rule(OUTPUT, ft(MOSTLY_IQ2_XXS, MOSTLY_IQ2_XS, MOSTLY_IQ3_XXS, MOSTLY_IQ1_S, MOSTLY_IQ2_S, MOSTLY_IQ2_M,
                    MOSTLY_IQ1_M), GgmlType.Q5_K, "very-low-bit mix"),
            // "new_type != GGML_TYPE_Q8_0": Q8_0 files keep the output at Q8_0 ...
            rule(OUTPUT, ft(MOSTLY_Q8_0), null, "already 8-bit"),
            // ... and every other quantized mix gives the output 6 bits: it matters most for quality
            rule(OUTPUT, QUANTIZED, GgmlType.Q6_K, "output gets 6 bits"),

            // --- token_embd.weight of an untied model (lines 170-187); --token-embedding-type is applied before.
            rule(TOKEN_EMBD, ft(MOSTLY_IQ2_XXS, MOSTLY_IQ2_XS, MOSTLY_IQ1_S, MOSTLY_IQ1_M), GgmlType.Q2_K,
                    "very-low-bit mix"),
            rule(TOKEN_EMBD, ft(MOSTLY_IQ2_S, MOSTLY_IQ2_M), GgmlType.IQ3_S, "IQ2_S/IQ2_M mix"),
            rule(TOKEN_EMBD, ft(MOSTLY_IQ3_XXS), GgmlType.IQ3_S, "IQ3_XXS mix"),
            rule(TOKEN_EMBD, ft(MOSTLY_TQ1_0, MOSTLY_TQ2_0), GgmlType.Q4_K, "ternary mix"),

            // --- attn_v.weight. Low-bit IQ branch first (lines 190-193): it has no 70B or 8-expert tweaks.
            rule(ATTN_V, IQ_LOW, GgmlType.Q4_K, "", Cond.GQA_4_OR_EXPERTS_4),
            rule(ATTN_V, ft(MOSTLY_IQ2_S, MOSTLY_IQ2_M), GgmlType.IQ3_S, "IQ2_S/IQ2_M mix"),
            rule(ATTN_V, IQ_LOW, GgmlType.Q2_K, "very-low-bit mix"),
            // general branch (lines 212-237). With GQA the V projection is n_gqa times smaller than Q, so more
            // bits for it cost little.
            rule(ATTN_V, ft(MOSTLY_Q2_K), GgmlType.Q4_K, "", Cond.GQA_4),
            rule(ATTN_V, ft(MOSTLY_Q2_K), GgmlType.Q3_K, "Q2_K mix"),
            rule(ATTN_V, ft(MOSTLY_Q2_K_S), GgmlType.Q4_K, "", Cond.GQA_4),
            rule(ATTN_V, ft(MOSTLY_IQ3_XXS), GgmlType.Q4_K, "", Cond.GQA_4),
            rule(ATTN_V, ft(MOSTLY_IQ3_XXS), GgmlType.IQ3_S, "", Cond.NO_IMATRIX),
            rule(ATTN_V, ft(MOSTLY_IQ3_XXS), GgmlType.IQ3_XXS, "", Cond.IMATRIX),
            rule(ATTN_V, ft(MOSTLY_IQ3_XS, MOSTLY_IQ3_S), GgmlType.Q4_K, "", Cond.GQA_4),
            rule(ATTN_V, ft(MOSTLY_IQ3_M), GgmlType.Q4_K, "IQ3_M mix"),
            // Q3_K_M: the first two attn_v (in llama.cpp's tensor order) get 5 bits, the rest 4
            rule(ATTN_V, ft(MOSTLY_Q3_K_M), GgmlType.Q5_K, "", Cond.FIRST_2_ATTN_V),
            rule(ATTN_V, ft(MOSTLY_Q3_K_M), GgmlType.Q4_K, "Q3_K_M mix"),
            rule(ATTN_V, ft(MOSTLY_Q3_K_L), GgmlType.Q5_K, "Q3_K_L mix"),
            rule(ATTN_V, ft(MOSTLY_IQ4_NL, MOSTLY_IQ4_XS), GgmlType.Q5_K, "", Cond.GQA_4),
            // the _M mixes: first and last eighth of the attn_v tensors and every third in between
            rule(ATTN_V, ft(MOSTLY_Q4_K_M, MOSTLY_Q5_K_M), GgmlType.Q6_K, "", Cond.ATTN_V_MORE_BITS),
            rule(ATTN_V, ft(MOSTLY_Q4_K_S), GgmlType.Q5_K, "", Cond.FIRST_4_ATTN_V),

            // --- attn_k.weight (lines 194-196 low-bit IQ, 250-261 general)
            rule(ATTN_K, IQ_LOW, GgmlType.Q4_K, "", Cond.EXPERTS_8),
            // 8-expert models (Mixtral): attention is a small part of the model; "trades just ~128MB"
            rule(ATTN_K, GENERAL, GgmlType.Q8_0, "", Cond.EXPERTS_8),
            rule(ATTN_K, ft(MOSTLY_IQ3_XS), GgmlType.IQ3_XXS, "IQ3_XS mix"),
            rule(ATTN_K, ft(MOSTLY_IQ3_XXS), GgmlType.IQ2_S, "IQ3_XXS mix"),

            // --- attn_q.weight (lines 262-268)
            rule(ATTN_Q, ft(MOSTLY_IQ3_XS), GgmlType.IQ3_XXS, "IQ3_XS mix"),
            rule(ATTN_Q, ft(MOSTLY_IQ3_XXS), GgmlType.IQ2_S, "IQ3_XXS mix"),

            // --- ffn_down* (lines 198-203 low-bit IQ, 269-313 general). The low-bit IQ branch counts ffn_down
            // tensors raw; the general branch uses layer_info (the counter, or the name's layer with experts).
            rule(FFN_DOWN, ft(MOSTLY_IQ2_S, MOSTLY_IQ2_M), GgmlType.IQ3_S, "", Cond.FIRST_8TH_FFN_DOWN),
            rule(FFN_DOWN, IQ_LOW, GgmlType.Q2_K, "", Cond.FIRST_8TH_FFN_DOWN),
            rule(FFN_DOWN, ft(MOSTLY_Q2_K), GgmlType.Q3_K, "Q2_K mix"),
            rule(FFN_DOWN, ft(MOSTLY_Q2_K_S), GgmlType.Q4_K, "", Cond.FIRST_8TH),
            rule(FFN_DOWN, ft(MOSTLY_IQ3_XXS), GgmlType.Q4_K, "", Cond.NO_IMATRIX, Cond.FIRST_8TH),
            rule(FFN_DOWN, ft(MOSTLY_IQ3_XXS), GgmlType.Q3_K, "", Cond.NO_IMATRIX),
            rule(FFN_DOWN, ft(MOSTLY_Q3_K_M), GgmlType.Q5_K, "", Cond.FIRST_16TH),
            rule(FFN_DOWN, ft(MOSTLY_Q3_K_M), GgmlType.Q4_K, "Q3_K_M mix", Cond.NOT_FALCON),
            rule(FFN_DOWN, ft(MOSTLY_Q3_K_M), GgmlType.Q4_K, "", Cond.MORE_BITS),
            rule(FFN_DOWN, ft(MOSTLY_Q3_K_M), GgmlType.Q3_K, "falcon"),
            rule(FFN_DOWN, ft(MOSTLY_IQ3_M), GgmlType.Q4_K, "", Cond.FIRST_8TH),
            rule(FFN_DOWN, ft(MOSTLY_IQ3_M), GgmlType.Q4_K, "", Cond.EXPERTS_8, Cond.MORE_BITS),
            rule(FFN_DOWN, ft(MOSTLY_Q3_K_L), GgmlType.Q4_K, "", Cond.FALCON),
            rule(FFN_DOWN, ft(MOSTLY_Q3_K_L), GgmlType.Q5_K, "Q3_K_L mix"),
            rule(FFN_DOWN, ft(MOSTLY_Q4_K_M), GgmlType.Q6_K, "", Cond.FALCON, Cond.FIRST_16TH),
            rule(FFN_DOWN, ft(MOSTLY_Q4_K_M), GgmlType.Q5_K, "", Cond.FALCON, Cond.MORE_BITS),
            rule(FFN_DOWN, ft(MOSTLY_Q4_K_M), GgmlType.Q4_K, "", Cond.FALCON),
            rule(FFN_DOWN, ft(MOSTLY_Q4_K_M), GgmlType.Q6_K, "", Cond.MORE_BITS),
            rule(FFN_DOWN, ft(MOSTLY_IQ4_NL, MOSTLY_IQ4_XS), GgmlType.Q5_K, "", Cond.FIRST_8TH, Cond.NO_IMATRIX),
            rule(FFN_DOWN, ft(MOSTLY_Q5_K_M), GgmlType.Q6_K, "", Cond.MORE_BITS),
            rule(FFN_DOWN, ft(MOSTLY_Q4_K_S), GgmlType.Q5_K, "", Cond.NOT_FALCON, Cond.FIRST_8TH),
            // "Guard against craziness in the first few ffn_down layers": only with an imatrix, so that without
            // one the result is what it always was
            rule(FFN_DOWN, ft(MOSTLY_Q4_0), GgmlType.Q4_1, "", Cond.IMATRIX, Cond.FIRST_8TH),
            rule(FFN_DOWN, ft(MOSTLY_Q5_0), GgmlType.Q5_1, "", Cond.IMATRIX, Cond.FIRST_8TH),

            // --- attn_output.weight (lines 204-211 low-bit IQ, 314-333 general)
            rule(ATTN_OUTPUT, IQ_LOW, GgmlType.Q5_K, "", Cond.EXPERTS_8),
            rule(ATTN_OUTPUT, ft(MOSTLY_IQ1_S, MOSTLY_IQ1_M), GgmlType.IQ2_XXS, "IQ1 mix"),
            rule(ATTN_OUTPUT, ft(MOSTLY_IQ2_S, MOSTLY_IQ2_M), GgmlType.IQ3_S, "IQ2_S/IQ2_M mix"),
            rule(ATTN_OUTPUT, ft(MOSTLY_Q2_K, MOSTLY_IQ3_XS, MOSTLY_IQ3_XXS, MOSTLY_Q3_K_S, MOSTLY_Q3_K_M,
                    MOSTLY_IQ4_NL, MOSTLY_Q4_K_S, MOSTLY_Q4_K_M, MOSTLY_IQ3_S, MOSTLY_IQ3_M, MOSTLY_IQ4_XS),
                    GgmlType.Q5_K, "", Cond.NOT_FALCON, Cond.EXPERTS_8),
            rule(ATTN_OUTPUT, ft(MOSTLY_Q2_K), GgmlType.Q3_K, "", Cond.NOT_FALCON, Cond.NOT_EXPERTS_8),
            rule(ATTN_OUTPUT, ft(MOSTLY_IQ3_XXS), GgmlType.IQ3_S, "", Cond.NOT_FALCON, Cond.NOT_EXPERTS_8),
            rule(ATTN_OUTPUT, ft(MOSTLY_Q3_K_M), GgmlType.Q4_K, "", Cond.NOT_FALCON, Cond.NOT_EXPERTS_8),
            rule(ATTN_OUTPUT, ft(MOSTLY_Q3_K_L), GgmlType.Q5_K, "", Cond.NOT_FALCON, Cond.NOT_EXPERTS_8),
            rule(ATTN_OUTPUT, ft(MOSTLY_IQ3_M), GgmlType.Q4_K, "", Cond.NOT_FALCON, Cond.NOT_EXPERTS_8),
            rule(ATTN_OUTPUT, ft(MOSTLY_Q3_K_L), GgmlType.Q4_K, "", Cond.FALCON),

            // --- attn_qkv.weight (fused QKV: phi2, bloom, ...; lines 334-340)
            rule(ATTN_QKV, ft(MOSTLY_Q3_K_M, MOSTLY_Q3_K_L, MOSTLY_IQ3_M), GgmlType.Q4_K, "3-bit mix"),
            rule(ATTN_QKV, ft(MOSTLY_Q4_K_M), GgmlType.Q5_K, "Q4_K_M mix"),
            rule(ATTN_QKV, ft(MOSTLY_Q5_K_M), GgmlType.Q6_K, "Q5_K_M mix"),

            // --- ffn_gate*, ffn_up* (lines 341-356): IQ3_XS spends fewer bits on the middle layers
            rule(FFN_GATE, ft(MOSTLY_IQ3_XS), GgmlType.IQ3_XXS, "", Cond.MIDDLE),
            rule(FFN_UP, ft(MOSTLY_IQ3_XS), GgmlType.IQ3_XXS, "", Cond.MIDDLE));

    /** Applied to attn_v after its chain, in order (general branch only, lines 238-248). */
    static final List<Adjust> ADJUSTMENTS = List.of(
            // "In the 70B model we have 8 heads sharing the same attn_v weights ... quantizing this tensor with
            // more bits" costs little
            new Adjust(ATTN_V, GENERAL, Set.of(GgmlType.Q3_K, GgmlType.Q4_K), GgmlType.Q5_K, "70B model",
                    List.of(Cond.MODEL_70B)),
            // "for the 8-expert model, bumping this to Q8_0 trades just ~128MB"
            new Adjust(ATTN_V, GENERAL, Set.of(), GgmlType.Q8_0, "n_expert == 8", List.of(Cond.EXPERTS_8)));

    /**
     * When the row length is not a multiple of the chosen type's block (lines 371-405): the type to use instead.
     * A type missing here makes llama.cpp stop with "Unsupported tensor size encountered". If the fallback's
     * block does not divide the row either, F16.
     */
    static final Map<GgmlType, GgmlType> FALLBACK;

    static {
        Map<GgmlType, GgmlType> m = new EnumMap<>(GgmlType.class);
        m.put(GgmlType.TQ1_0, GgmlType.Q4_0); // "TODO: use a symmetric type instead"
        m.put(GgmlType.TQ2_0, GgmlType.Q4_0);
        for (GgmlType t : List.of(GgmlType.IQ2_XXS, GgmlType.IQ2_XS, GgmlType.IQ2_S, GgmlType.IQ3_XXS,
                GgmlType.IQ3_S, GgmlType.IQ1_S, GgmlType.IQ1_M, GgmlType.Q2_K, GgmlType.Q3_K, GgmlType.IQ4_XS)) {
            m.put(t, GgmlType.IQ4_NL); // block 32, 4.5 bits
        }
        m.put(GgmlType.Q4_K, GgmlType.Q5_0);
        m.put(GgmlType.Q5_K, GgmlType.Q5_1);
        m.put(GgmlType.Q6_K, GgmlType.Q8_0);
        FALLBACK = java.util.Collections.unmodifiableMap(m);
    }

    /** Tensor-name tests that keep a tensor out of quantization (lines 736-768), with why. */
    record Exclusion(String substring, String why) {
    }

    static final List<Exclusion> EXCLUDED_SUBSTRINGS = List.of(
            new Exclusion("_norm.weight", "norm"),
            new Exclusion("ffn_gate_inp.weight", "expert gating (ffn_gate_inp)"),
            new Exclusion("ssm_conv1d.weight", "Mamba ssm_conv1d"),
            new Exclusion("time_mix_first.weight", "RWKV time_mix_first"),
            new Exclusion("time_mix_w1.weight", "RWKV time_mix_w1"),
            new Exclusion("time_mix_w2.weight", "RWKV time_mix_w2"),
            new Exclusion("time_mix_decay_w1.weight", "RWKV time_mix_decay_w1"),
            new Exclusion("time_mix_decay_w2.weight", "RWKV time_mix_decay_w2"),
            new Exclusion("time_mix_lerp_fused.weight", "RWKV time_mix_lerp_fused"),
            new Exclusion("attn_rel_b.weight", "T5 relative position bias"));

    // ---- per-architecture facts of llama.cpp c392e50 (src/llama-arch.cpp LLM_TENSOR_NAMES, llama-model.cpp) -----

    /**
     * Architectures whose tensor-name table has no LLM_TENSOR_OUTPUT: for them llama.cpp's
     * {@code tn(LLM_TENSOR_OUTPUT, "weight")} is "__missing__", so no tensor counts as the output, the model is
     * always "tied" and token_embd.weight gets the output's rules.
     */
    static final Set<String> ARCHES_WITHOUT_OUTPUT = Set.of("bert", "bitnet", "cohere2", "command-r", "gemma",
            "gemma2", "gptj", "jina-bert-v2", "nomic-bert", "openelm");

    /** Architectures with LLM_TENSOR_POS_EMBD: only for them is position_embd.weight left unquantized. */
    static final Set<String> ARCHES_WITH_POS_EMBD = Set.of("bert", "gpt2", "mpt", "starcoder");

    /** Architectures with LLM_TENSOR_TOKEN_TYPES: only for them is token_types.weight left unquantized. */
    static final Set<String> ARCHES_WITH_TOKEN_TYPES = Set.of("bert", "jina-bert-v2", "nomic-bert");
}
