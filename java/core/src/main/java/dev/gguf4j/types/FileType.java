package dev.gguf4j.types;

import java.util.Optional;

/**
 * llama.cpp's file types ({@code enum llama_ftype}, stored as {@code general.file_type}): the id, the name
 * llama-quantize accepts, and the description llama.cpp prints.
 */
public enum FileType {
    ALL_F32(0, "F32", "all F32"),
    MOSTLY_F16(1, "F16", "F16"),
    MOSTLY_Q4_0(2, "Q4_0", "Q4_0"),
    MOSTLY_Q4_1(3, "Q4_1", "Q4_1"),
    MOSTLY_Q8_0(7, "Q8_0", "Q8_0"),
    MOSTLY_Q5_0(8, "Q5_0", "Q5_0"),
    MOSTLY_Q5_1(9, "Q5_1", "Q5_1"),
    MOSTLY_Q2_K(10, "Q2_K", "Q2_K - Medium"),
    MOSTLY_Q3_K_S(11, "Q3_K_S", "Q3_K - Small"),
    MOSTLY_Q3_K_M(12, "Q3_K_M", "Q3_K - Medium"),
    MOSTLY_Q3_K_L(13, "Q3_K_L", "Q3_K - Large"),
    MOSTLY_Q4_K_S(14, "Q4_K_S", "Q4_K - Small"),
    MOSTLY_Q4_K_M(15, "Q4_K_M", "Q4_K - Medium"),
    MOSTLY_Q5_K_S(16, "Q5_K_S", "Q5_K - Small"),
    MOSTLY_Q5_K_M(17, "Q5_K_M", "Q5_K - Medium"),
    MOSTLY_Q6_K(18, "Q6_K", "Q6_K"),
    MOSTLY_IQ2_XXS(19, "IQ2_XXS", "IQ2_XXS - 2.0625 bpw"),
    MOSTLY_IQ2_XS(20, "IQ2_XS", "IQ2_XS - 2.3125 bpw"),
    MOSTLY_Q2_K_S(21, "Q2_K_S", "Q2_K - Small"),
    MOSTLY_IQ3_XS(22, "IQ3_XS", "IQ3_XS - 3.3 bpw"),
    MOSTLY_IQ3_XXS(23, "IQ3_XXS", "IQ3_XXS - 3.0625 bpw"),
    MOSTLY_IQ1_S(24, "IQ1_S", "IQ1_S - 1.5625 bpw"),
    MOSTLY_IQ4_NL(25, "IQ4_NL", "IQ4_NL - 4.5 bpw"),
    MOSTLY_IQ3_S(26, "IQ3_S", "IQ3_S - 3.4375 bpw"),
    MOSTLY_IQ3_M(27, "IQ3_M", "IQ3_S mix - 3.66 bpw"),
    MOSTLY_IQ2_S(28, "IQ2_S", "IQ2_S - 2.5 bpw"),
    MOSTLY_IQ2_M(29, "IQ2_M", "IQ2_M - 2.7 bpw"),
    MOSTLY_IQ4_XS(30, "IQ4_XS", "IQ4_XS - 4.25 bpw"),
    MOSTLY_IQ1_M(31, "IQ1_M", "IQ1_M - 1.75 bpw"),
    MOSTLY_BF16(32, "BF16", "BF16"),
    MOSTLY_TQ1_0(36, "TQ1_0", "TQ1_0 - 1.69 bpw ternary"),
    MOSTLY_TQ2_0(37, "TQ2_0", "TQ2_0 - 2.06 bpw ternary");

    private final int id;
    private final String quantizeName;
    private final String description;

    FileType(int id, String quantizeName, String description) {
        this.id = id;
        this.quantizeName = quantizeName;
        this.description = description;
    }

    public int id() {
        return id;
    }

    /** The name llama-quantize takes on its command line, e.g. Q4_K_M. */
    public String quantizeName() {
        return quantizeName;
    }

    /** llama.cpp's description, e.g. "Q4_K - Medium". */
    public String description() {
        return description;
    }

    /** How {@code gguf4j info} and {@code list} name a {@code general.file_type}: its description, or "unknown (ID)". */
    public static String describe(long id) {
        return byId(id).map(FileType::description).orElse("unknown (" + id + ")");
    }

    public static Optional<FileType> byId(long id) {
        for (FileType t : values()) {
            if (t.id == id) {
                return Optional.of(t);
            }
        }
        return Optional.empty();
    }

    public static Optional<FileType> byQuantizeName(String name) {
        for (FileType t : values()) {
            if (t.quantizeName.equalsIgnoreCase(name)) {
                return Optional.of(t);
            }
        }
        return Optional.empty();
    }
}
