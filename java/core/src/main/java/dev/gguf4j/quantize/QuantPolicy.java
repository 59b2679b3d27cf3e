package dev.gguf4j.quantize;

import dev.gguf4j.Gguf4jException;
import dev.gguf4j.gguf.GgufFile;
import dev.gguf4j.gguf.GgufMetadata;
import dev.gguf4j.gguf.GgufTensor;
import dev.gguf4j.gguf.Hyperparameters;
import dev.gguf4j.types.FileType;
import dev.gguf4j.types.GgmlType;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * Which ggml type each tensor gets, exactly as {@code llama-quantize} (llama.cpp c392e50) picks it: the tensor
 * selection and option handling of {@code llama_model_quantize_impl}, the mixture rules of
 * {@code llama_tensor_get_type} (kept as data in {@link MixtureRules}) and the fallback for row lengths a type's
 * block does not divide. Line numbers in comments are of {@code src/llama-quant.cpp}.
 *
 * <p>Some rules depend on counters that llama.cpp advances as it walks the tensors (the {@code attn_v} index for
 * Q3_K_M, Q4_K_S and the _M mixes; the {@code ffn_*} indices). llama.cpp walks them in its loader's order — not the
 * file's: tensors outside {@code blk.N.} first, then layer by layer, by name (byte order) within each
 * ({@link #LOADER_ORDER}, {@code weight_name_comparer} in {@code llama-model-loader.h}) — which is also the
 * order llama-quantize writes them in. {@link #choose} therefore returns its choices in that order, whatever the
 * order of its input.
 *
 * <p>Limits: an architecture llama.cpp c392e50 does not know is treated like {@code llama} (llama-quantize would
 * refuse it); llama-quantize's sanity check that there is one attn_v per attention layer is not repeated.
 */
public final class QuantPolicy {
    private QuantPolicy() {
    }

    /** The file types the policy (and gguf4j's quantizer) handles; others are refused as "not supported yet". */
    public static final Set<FileType> SUPPORTED = Collections.unmodifiableSet(EnumSet.of(FileType.ALL_F32,
            FileType.MOSTLY_F16, FileType.MOSTLY_BF16, FileType.MOSTLY_Q4_0, FileType.MOSTLY_Q4_1,
            FileType.MOSTLY_Q5_0, FileType.MOSTLY_Q5_1, FileType.MOSTLY_Q8_0, FileType.MOSTLY_Q2_K,
            FileType.MOSTLY_Q2_K_S, FileType.MOSTLY_Q3_K_S, FileType.MOSTLY_Q3_K_M, FileType.MOSTLY_Q3_K_L,
            FileType.MOSTLY_Q4_K_S, FileType.MOSTLY_Q4_K_M, FileType.MOSTLY_Q5_K_S, FileType.MOSTLY_Q5_K_M,
            FileType.MOSTLY_Q6_K, FileType.MOSTLY_IQ4_NL));

    /**
     * File types llama-quantize refuses without an importance matrix (examples/quantize/quantize.cpp, before it
     * starts): IQ1_S, IQ1_M, IQ2_XXS, IQ2_XS, IQ2_S and Q2_K_S. (IQ2_M is refused later, per tensor, because its
     * default type IQ2_S needs one.)
     */
    public static final Set<FileType> NEED_IMATRIX = Collections.unmodifiableSet(EnumSet.of(FileType.MOSTLY_IQ2_XS,
            FileType.MOSTLY_IQ2_XXS, FileType.MOSTLY_IQ2_S, FileType.MOSTLY_Q2_K_S, FileType.MOSTLY_IQ1_S,
            FileType.MOSTLY_IQ1_M));

    /**
     * llama.cpp's loader order of tensor names: the layer parsed as {@code sscanf(name, "blk.%d.")} (-1 when that
     * fails), then the names' bytes (UTF-8, unsigned).
     */
    public static final Comparator<String> LOADER_ORDER = Comparator.comparingInt(QuantPolicy::layerOf)
            .thenComparing((a, b) -> Arrays.compareUnsigned(a.getBytes(StandardCharsets.UTF_8),
                    b.getBytes(StandardCharsets.UTF_8)));

    /** What the policy needs to know of the model (llama.cpp's hparams and model type). */
    public record Model(String arch, int nLayer, int nHead, int nHeadKv, int nExpert) {
        public Model {
            Objects.requireNonNull(arch, "arch");
            if (nLayer < 0 || nHead < 0 || nHeadKv < 0 || nExpert < 0) {
                throw new IllegalArgumentException("negative hyperparameter in " + arch + " " + nLayer + "/" + nHead
                        + "/" + nHeadKv + "/" + nExpert);
            }
        }

        /**
         * From GGUF metadata as llama.cpp reads it, checked by {@link Hyperparameters#read} (the checks {@code run}
         * applies too): {@code <arch>.block_count}; {@code <arch>.attention.head_count} and {@code head_count_kv}
         * (layer 0's when per-layer arrays; kv defaults to the head count; 0 for attention-free architectures);
         * {@code <arch>.expert_count} (0 when absent).
         */
        public static Model of(String source, GgufMetadata md) {
            Hyperparameters h = Hyperparameters.read(source, md);
            return new Model(h.architecture(), h.blockCount(), h.headCount(), h.headCountKv(), h.expertCount());
        }

        /** {@code hparams.n_gqa()}: n_head / n_head_kv of layer 0, 0 when n_head_kv is 0. */
        public int nGqa() {
            return nHeadKv == 0 ? 0 : nHead / nHeadKv;
        }

        /**
         * Whether llama.cpp's load_hparams types this model {@code LLM_TYPE_70B} (llama-model.cpp): 80 layers of
         * llama (not 8 experts, and n_head != n_head_kv, else it is 65B), deci, qwen2, qwen2vl or olmo.
         */
        public boolean is70B() {
            if (nLayer != 80) {
                return false;
            }
            return switch (arch) {
                case "llama" -> nExpert != 8 && nHead != nHeadKv;
                case "deci", "qwen2", "qwen2vl", "olmo" -> true;
                default -> false;
            };
        }
    }

    /** One input tensor: name, current type and shape in ggml order ({@code shape[0]} is the row length). */
    public record Tensor(String name, GgmlType type, long[] shape) {
        public Tensor {
            Objects.requireNonNull(name, "name");
            Objects.requireNonNull(type, "type");
            shape = shape.clone();
            if (shape.length == 0) {
                throw new IllegalArgumentException(name + ": empty shape");
            }
        }

        public static Tensor of(GgufTensor t) {
            return new Tensor(t.name(), t.type(), t.shape());
        }

        @Override
        public long[] shape() {
            return shape.clone();
        }

        /** {@code ggml_n_dims}: dimensions up to the last one that is not 1 (at least 1). */
        public int nDims() {
            int n = shape.length;
            while (n > 1 && shape[n - 1] == 1) {
                n--;
            }
            return n;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Tensor t && t.name.equals(name) && t.type == type && Arrays.equals(t.shape, shape);
        }

        @Override
        public int hashCode() {
            return name.hashCode();
        }

        @Override
        public String toString() {
            return name + " " + type + " " + Arrays.toString(shape);
        }
    }

    /**
     * llama-quantize's options that affect the types.
     *
     * @param pure              {@code --pure}: every quantized tensor gets the default type (no mixture rules)
     * @param outputTensorType  {@code --output-tensor-type}
     * @param tokenEmbeddingType {@code --token-embedding-type}
     * @param leaveOutputTensor {@code --leave-output-tensor}: output.weight is copied as it is
     * @param allowRequantize   {@code --allow-requantize}: tensors already quantized may be converted
     * @param imatrixTensors    present when a non-empty importance matrix is given (after --include-weights and
     *                          --exclude-weights): the names of the tensors it has a usable entry for. llama.cpp's
     *                          {@code has_imatrix} is then true for every tensor; the set decides the per-tensor
     *                          "Missing importance matrix" check
     */
    public record Options(boolean pure, Optional<GgmlType> outputTensorType, Optional<GgmlType> tokenEmbeddingType,
            boolean leaveOutputTensor, boolean allowRequantize, Optional<Set<String>> imatrixTensors) {
        /** llama_model_quantize_default_params(): no option given. */
        public static final Options DEFAULTS = new Options(false, Optional.empty(), Optional.empty(), false, false,
                Optional.empty());

        public Options {
            Objects.requireNonNull(outputTensorType, "outputTensorType");
            Objects.requireNonNull(tokenEmbeddingType, "tokenEmbeddingType");
            imatrixTensors = imatrixTensors.map(Set::copyOf);
        }

        public Options withPure(boolean v) {
            return new Options(v, outputTensorType, tokenEmbeddingType, leaveOutputTensor, allowRequantize,
                    imatrixTensors);
        }

        public Options withOutputTensorType(GgmlType t) {
            return new Options(pure, Optional.of(t), tokenEmbeddingType, leaveOutputTensor, allowRequantize,
                    imatrixTensors);
        }

        public Options withTokenEmbeddingType(GgmlType t) {
            return new Options(pure, outputTensorType, Optional.of(t), leaveOutputTensor, allowRequantize,
                    imatrixTensors);
        }

        public Options withLeaveOutputTensor(boolean v) {
            return new Options(pure, outputTensorType, tokenEmbeddingType, v, allowRequantize, imatrixTensors);
        }

        public Options withAllowRequantize(boolean v) {
            return new Options(pure, outputTensorType, tokenEmbeddingType, leaveOutputTensor, v, imatrixTensors);
        }

        /** An importance matrix with entries for {@code tensors}. */
        public Options withImatrix(Set<String> tensors) {
            return new Options(pure, outputTensorType, tokenEmbeddingType, leaveOutputTensor, allowRequantize,
                    Optional.of(tensors));
        }
    }

    /**
     * The decision for one tensor.
     *
     * @param type   the type it will have in the output ({@code == sourceType} when it is copied)
     * @param role   its role in the mixture rules ({@link TensorRole#OTHER} also for tensors never quantized)
     * @param reason a short explanation, e.g. {@code "attn_v: use_more_bits(attn_v #2 of 5) → Q6_K"}
     */
    public record Choice(String name, GgmlType sourceType, GgmlType type, TensorRole role, String reason) {
        /** Whether the tensor's data is converted (otherwise it is copied). */
        public boolean converts() {
            return type != sourceType;
        }
    }

    // ---- public entry points --------------------------------------------------------------------------------

    /** {@link #choose(Model, List, Optional, Options)} for the tensors and metadata of {@code file}. */
    public static List<Choice> choose(GgufFile file, Optional<FileType> target, Options options) {
        List<Tensor> ts = new ArrayList<>(file.tensors().size());
        for (GgufTensor t : file.tensors()) {
            ts.add(Tensor.of(t));
        }
        return choose(Model.of(file.source(), file.metadata()), ts, target, options);
    }

    /**
     * The type of every tensor, in llama.cpp's loader order ({@link #LOADER_ORDER}).
     *
     * @param target the file type, or empty for llama-quantize's {@code COPY} (every tensor kept as it is)
     * @throws Gguf4jException where llama-quantize would refuse or fail: a file type that needs an importance
     *         matrix without one, a file type not supported yet, a row length no fallback fits, a quantized tensor
     *         without {@code allowRequantize}, a source type that cannot be converted
     */
    public static List<Choice> choose(Model model, List<Tensor> tensors, Optional<FileType> target,
            Options options) {
        checkImatrixGiven(target, options);
        if (target.isPresent() && !SUPPORTED.contains(target.get())) {
            throw new Gguf4jException("quantizing to " + target.get().quantizeName() + " ("
                    + target.get().description() + ") is not supported yet");
        }
        return new Walk(model, tensors, target, options).run();
    }

    /**
     * {@link #choose} for every file type llama.cpp has, {@link #SUPPORTED} or not: the whole rule table, for
     * tests against llama-quantize.
     */
    static List<Choice> chooseAnyFileType(Model model, List<Tensor> tensors, Optional<FileType> target,
            Options options) {
        checkImatrixGiven(target, options);
        return new Walk(model, tensors, target, options).run();
    }

    private static void checkImatrixGiven(Optional<FileType> target, Options options) {
        if (target.isPresent() && NEED_IMATRIX.contains(target.get()) && options.imatrixTensors().isEmpty()) {
            throw new Gguf4jException("cannot quantize to " + target.get().quantizeName() + ": like llama-quantize,"
                    + " gguf4j will not use IQ1_S, IQ1_M, IQ2_S, IQ2_XXS, IQ2_XS or Q2_K_S quantization without an"
                    + " importance matrix (the result would be garbage); give one with --imatrix");
        }
    }

    /** The type a file type gives every quantized tensor that no rule changes (llama-quant.cpp lines 470-505). */
    public static GgmlType defaultType(FileType ftype) {
        return MixtureRules.defaultType(ftype);
    }

    /**
     * llama.cpp's {@code use_more_bits} (line 129): the first and last eighth of the layers, and every third layer
     * in between.
     */
    public static boolean useMoreBits(int iLayer, int nLayers) {
        return iLayer < nLayers / 8 || iLayer >= 7 * nLayers / 8 || (iLayer - nLayers / 8) % 3 == 2;
    }

    /**
     * A file type as llama-quantize's command line takes it: a name, case-insensitively, including the aliases
     * Q3_K (= Q3_K_M), Q4_K (= Q4_K_M) and Q5_K (= Q5_K_M), or a numeric ftype id. {@code COPY} is not a file
     * type: the caller handles it (empty target of {@link #choose}).
     */
    public static Optional<FileType> parseFileType(String s) {
        String u = s.trim().toUpperCase(Locale.ROOT);
        switch (u) {
            case "Q3_K" -> {
                return Optional.of(FileType.MOSTLY_Q3_K_M);
            }
            case "Q4_K" -> {
                return Optional.of(FileType.MOSTLY_Q4_K_M);
            }
            case "Q5_K" -> {
                return Optional.of(FileType.MOSTLY_Q5_K_M);
            }
            default -> {
            }
        }
        Optional<FileType> byName = FileType.byQuantizeName(u);
        if (byName.isPresent()) {
            return byName;
        }
        if (!u.isEmpty() && u.chars().allMatch(Character::isDigit) && u.length() < 10) {
            return FileType.byId(Long.parseLong(u));
        }
        return Optional.empty();
    }

    // ---- the walk -------------------------------------------------------------------------------------------

    /** llama.cpp's {@code quantize_state_impl} and the loop of {@code llama_model_quantize_impl}. */
    private static final class Walk {
        final Model model;
        final List<Tensor> ordered;
        final Optional<FileType> target;
        final Options o;
        final boolean hasOutput;
        final int nAttentionWv;
        final boolean hasImatrix;
        int iAttentionWv;
        int iFfnDown;
        int iFfnGate;
        int iFfnUp;

        Walk(Model model, List<Tensor> tensors, Optional<FileType> target, Options o) {
            this.model = model;
            this.target = target;
            this.o = o;
            List<Tensor> sorted = new ArrayList<>(tensors);
            sorted.sort(Comparator.comparing(Tensor::name, LOADER_ORDER));
            Set<String> seen = new HashSet<>();
            for (Tensor t : sorted) {
                if (!seen.add(t.name())) {
                    throw new Gguf4jException("duplicate tensor name '" + t.name() + "'");
                }
            }
            this.ordered = sorted;
            // lines 608-622: count attn_v/attn_qkv/attn_kv_b, and whether there is an output.weight
            int nWv = 0;
            boolean out = false;
            for (Tensor t : sorted) {
                String n = t.name();
                if (n.contains("attn_v.weight") || n.contains("attn_qkv.weight") || n.contains("attn_kv_b.weight")) {
                    nWv++;
                } else if (archHasOutput() && n.equals("output.weight")) {
                    out = true;
                }
            }
            this.nAttentionWv = nWv;
            this.hasOutput = out;
            this.hasImatrix = o.imatrixTensors().isPresent();
        }

        boolean archHasOutput() {
            return !MixtureRules.ARCHES_WITHOUT_OUTPUT.contains(model.arch());
        }

        List<Choice> run() {
            List<Choice> out = new ArrayList<>(ordered.size());
            for (Tensor t : ordered) {
                out.add(choose(t));
            }
            return List.copyOf(out);
        }

        private Choice choose(Tensor t) {
            String name = t.name();
            if (target.isEmpty()) {
                return new Choice(name, t.type(), t.type(), TensorRole.OTHER, "COPY: copied as it is");
            }
            FileType ftype = target.get();
            String excluded = whyNotQuantized(t);
            if (excluded != null) {
                return new Choice(name, t.type(), t.type(), TensorRole.OTHER,
                        "not quantized (" + excluded + "): kept " + t.type());
            }
            GgmlType defaultType = MixtureRules.defaultType(ftype);
            Pick pick;
            if (!o.pure() && defaultType.isQuantized()) {
                pick = mixture(t, ftype, defaultType); // line 778
            } else {
                pick = new Pick(roleOf(name), defaultType,
                        (o.pure() ? "--pure" : ftype.quantizeName()) + ": default type → " + defaultType);
            }
            // lines 781-786: the options win over everything, even --pure and the row-length fallback
            if (o.tokenEmbeddingType().isPresent() && name.equals("token_embd.weight")) {
                GgmlType tt = o.tokenEmbeddingType().get();
                pick = new Pick(pick.role, tt, "token_embd: --token-embedding-type → " + tt);
            }
            if (o.outputTensorType().isPresent() && name.equals("output.weight")) {
                GgmlType tt = o.outputTensorType().get();
                pick = new Pick(pick.role, tt, "output: --output-tensor-type → " + tt);
            }
            // line 790: already of that type: copied
            if (t.type() == pick.type) {
                return new Choice(name, t.type(), t.type(), pick.role, pick.reason + " (already " + t.type() + ")");
            }
            checkConvertible(t, ftype, pick.type);
            return new Choice(name, t.type(), pick.type, pick.role, pick.reason);
        }

        /** Lines 736-768: why the tensor is not quantized at all, or null if it is. */
        private String whyNotQuantized(Tensor t) {
            String name = t.name();
            if (!endsWithWeight(name)) {
                return "name does not end in \"weight\"";
            }
            if (t.nDims() < 2) {
                return "1-D";
            }
            if (o.leaveOutputTensor() && name.equals("output.weight")) {
                return "--leave-output-tensor";
            }
            for (MixtureRules.Exclusion e : MixtureRules.EXCLUDED_SUBSTRINGS) {
                if (name.contains(e.substring())) {
                    return e.why();
                }
            }
            if (name.equals("position_embd.weight") && MixtureRules.ARCHES_WITH_POS_EMBD.contains(model.arch())) {
                return "position embeddings";
            }
            if (name.equals("token_types.weight") && MixtureRules.ARCHES_WITH_TOKEN_TYPES.contains(model.arch())) {
                return "token types";
            }
            return null;
        }

        private TensorRole roleOf(String name) {
            if ((archHasOutput() && name.equals("output.weight"))
                    || (!hasOutput && name.equals("token_embd.weight"))) {
                return TensorRole.OUTPUT;
            }
            if (name.equals("token_embd.weight")) {
                return TensorRole.TOKEN_EMBD;
            }
            return TensorRole.byName(name);
        }

        /** llama_tensor_get_type (lines 124-407). */
        private Pick mixture(Tensor t, FileType ftype, GgmlType defaultType) {
            String name = t.name();
            long ne0 = t.shape()[0];
            TensorRole role = roleOf(name);
            boolean iqLow = MixtureRules.IQ_LOW.contains(ftype);
            GgmlType type = defaultType;
            String why;
            String label = role == TensorRole.OUTPUT && name.equals("token_embd.weight")
                    ? "token_embd (tied, quantized as output)" : role.label();

            if (role == TensorRole.OUTPUT && o.outputTensorType().isPresent()) {
                type = o.outputTensorType().get(); // line 152
                why = label + ": --output-tensor-type → " + type;
            } else if (role == TensorRole.TOKEN_EMBD && o.tokenEmbeddingType().isPresent()) {
                type = o.tokenEmbeddingType().get(); // line 171
                why = label + ": --token-embedding-type → " + type;
            } else {
                int iLayer = 0;
                int nLayer = model.nLayer();
                boolean ffn = role == TensorRole.FFN_DOWN || role == TensorRole.FFN_GATE || role == TensorRole.FFN_UP;
                if (ffn && !(iqLow && role != TensorRole.FFN_DOWN)) {
                    // the low-bit IQ branch only looks at ffn_down, and then by its raw counter
                    int counter = switch (role) {
                        case FFN_DOWN -> iFfnDown;
                        case FFN_GATE -> iFfnGate;
                        default -> iFfnUp;
                    };
                    iLayer = iqLow ? counter : layerInfo(counter, nLayer, name);
                }
                MixtureRules.Ctx ctx = new MixtureRules.Ctx(ftype, defaultType, model.arch(), model.nGqa(),
                        model.nExpert(), model.is70B(), hasImatrix, ne0, iLayer, nLayer, iAttentionWv,
                        nAttentionWv, iFfnDown, model.nLayer());
                why = null;
                for (MixtureRules.Rule r : MixtureRules.RULES) {
                    if (r.role() == role && r.matches(ctx)) {
                        if (r.to() != null) {
                            type = r.to();
                        }
                        why = label + ": " + r.describe(ctx) + " → " + type;
                        break;
                    }
                }
                if (why == null) {
                    why = label + ": " + ftype.quantizeName() + " default → " + type;
                }
                for (MixtureRules.Adjust a : MixtureRules.ADJUSTMENTS) {
                    if (a.role() == role && a.matches(ctx, type)) {
                        type = a.to();
                        why += "; " + a.why() + " → " + type;
                    }
                }
                // the counters advance as llama.cpp's do: attn_v and ffn_down in both branches, ffn_gate and
                // ffn_up only in the general one
                switch (role) {
                    case ATTN_V -> iAttentionWv++;
                    case FFN_DOWN -> iFfnDown++;
                    case FFN_GATE -> iFfnGate += iqLow ? 0 : 1;
                    case FFN_UP -> iFfnUp += iqLow ? 0 : 1;
                    default -> {
                    }
                }
            }
            // lines 371-405: a row length the type's block does not divide
            if (ne0 % type.blockSize() != 0) {
                GgmlType fb = MixtureRules.FALLBACK.get(type);
                if (fb == null) {
                    throw new Gguf4jException("tensor '" + name + "': row length " + ne0 + " is not a multiple of "
                            + type.blockSize() + " (required for " + type + ") and " + type
                            + " has no fallback type: llama-quantize stops with \"Unsupported tensor size"
                            + " encountered\"");
                }
                String fbWhy = "; ne[0]=" + ne0 + " not a multiple of " + type.blockSize() + " → fallback " + fb;
                if (ne0 % fb.blockSize() != 0) {
                    fbWhy += ", not a multiple of " + fb.blockSize() + " either → F16";
                    fb = GgmlType.F16;
                }
                type = fb;
                why += fbWhy;
            }
            return new Pick(role, type, why);
        }

        /** layer_info (lines 133-148): with experts, the layer from the name; otherwise the counter. */
        private int layerInfo(int counter, int nLayer, String name) {
            if (Math.max(1, model.nExpert()) > 1) {
                int layer = layerOf(name);
                if (!scanfMatches(name)) {
                    throw new Gguf4jException("Failed to determine layer for tensor " + name);
                }
                if (layer < 0 || layer >= nLayer) {
                    throw new Gguf4jException("Bad layer " + layer + " for tensor " + name + ". Must be in [0, "
                            + nLayer + ")");
                }
                return layer;
            }
            return counter;
        }

        /** Lines 793-848: what llama-quantize checks before converting. */
        private void checkConvertible(Tensor t, FileType ftype, GgmlType to) {
            String name = t.name();
            boolean withImatrix = o.imatrixTensors().map(s -> s.contains(name)).orElse(false);
            boolean needsImatrix = to == GgmlType.IQ2_XXS || to == GgmlType.IQ2_XS || to == GgmlType.IQ2_S
                    || to == GgmlType.IQ1_S
                    || (to == GgmlType.IQ1_M && !name.equals("token_embd.weight") && !name.equals("output.weight"))
                    || (to == GgmlType.Q2_K && ftype == FileType.MOSTLY_Q2_K_S && !name.equals("token_embd.weight"));
            if (needsImatrix && !withImatrix) {
                throw new Gguf4jException("Missing importance matrix for tensor " + name + " in a very low-bit"
                        + " quantization (" + to + "): the result would be garbage");
            }
            GgmlType from = t.type();
            if (from.isQuantized() && !o.allowRequantize()) {
                throw new Gguf4jException("tensor '" + name + "': requantizing from type " + from.ggmlName()
                        + " is disabled (--allow-requantize enables it, at a cost in quality)");
            }
            if (!from.isQuantized() && from != GgmlType.F32 && from != GgmlType.F16 && from != GgmlType.BF16) {
                throw new Gguf4jException("tensor '" + name + "': cannot dequantize/convert tensor type "
                        + from.ggmlName());
            }
            long ne0 = t.shape()[0];
            if (ne0 % to.blockSize() != 0) {
                // reached only through --pure or the type options, which bypass the fallback; llama-quantize
                // aborts here (GGML_ASSERT in gguf_set_tensor_type)
                throw new Gguf4jException("tensor '" + name + "': row length " + ne0 + " is not a multiple of "
                        + to.blockSize() + ", the block of " + to + ": tensor row size not divisible by block size"
                        + " of new type");
            }
        }
    }

    private record Pick(TensorRole role, GgmlType type, String reason) {
    }

    // ---- names ----------------------------------------------------------------------------------------------

    /**
     * Line 736, {@code name.rfind("weight") == name.size() - 6}, on the name's bytes. Equivalent to "ends with
     * weight", except that the unsigned arithmetic also accepts every name of exactly 5 bytes (size - 6 wraps to
     * npos, which is what rfind returns when it finds nothing).
     */
    static boolean endsWithWeight(String name) {
        byte[] b = name.getBytes(StandardCharsets.UTF_8);
        if (b.length == 5) {
            return true;
        }
        return name.endsWith("weight");
    }

    /** {@code sscanf(name, "blk.%d.", &layer)} as the loader's comparer uses it: the layer, or -1. */
    static int layerOf(String name) {
        if (!scanfMatches(name)) {
            return -1;
        }
        int i = 4;
        while (i < name.length() && isCSpace(name.charAt(i))) {
            i++;
        }
        boolean neg = false;
        if (name.charAt(i) == '+' || name.charAt(i) == '-') {
            neg = name.charAt(i) == '-';
            i++;
        }
        long v = 0;
        while (i < name.length() && name.charAt(i) >= '0' && name.charAt(i) <= '9') {
            v = Math.min(v * 10 + (name.charAt(i) - '0'), 1L << 40);
            i++;
        }
        v = neg ? -v : v;
        return (int) Math.max(Integer.MIN_VALUE, Math.min(Integer.MAX_VALUE, v));
    }

    /** Whether {@code sscanf(name, "blk.%d.")} assigns the number: "blk." then optional spaces, sign, a digit. */
    private static boolean scanfMatches(String name) {
        if (!name.startsWith("blk.")) {
            return false;
        }
        int i = 4;
        while (i < name.length() && isCSpace(name.charAt(i))) {
            i++;
        }
        if (i < name.length() && (name.charAt(i) == '+' || name.charAt(i) == '-')) {
            i++;
        }
        return i < name.length() && name.charAt(i) >= '0' && name.charAt(i) <= '9';
    }

    private static boolean isCSpace(char c) {
        return c == ' ' || c == '\t' || c == '\n' || c == '\u000b' || c == '\f' || c == '\r';
    }
}
