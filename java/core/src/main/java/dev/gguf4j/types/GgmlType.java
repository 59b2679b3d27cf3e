package dev.gguf4j.types;

import java.util.Locale;
import java.util.Optional;

/**
 * Every ggml tensor type: ggml's numeric id, name, elements per block and bytes per block. This is Java's one
 * definition of those facts (TypeLayoutTest holds it against the C library's {@code sizeof}s).
 *
 * <p>Bits per weight = 8 * blockBytes / blockSize.
 */
public enum GgmlType {
    F32(0, "f32", 1, 4),
    F16(1, "f16", 1, 2),
    Q4_0(2, "q4_0", 32, 18),        // d:f16, qs[16]                        4.5 bpw
    Q4_1(3, "q4_1", 32, 20),        // d, m:f16, qs[16]                     5.0 bpw
    Q5_0(6, "q5_0", 32, 22),        // d:f16, qh[4], qs[16]                 5.5 bpw
    Q5_1(7, "q5_1", 32, 24),        // d, m:f16, qh[4], qs[16]              6.0 bpw
    Q8_0(8, "q8_0", 32, 34),        // d:f16, qs[32] int8                   8.5 bpw
    Q8_1(9, "q8_1", 32, 36),        // d, s:f16, qs[32] int8                9.0 bpw
    Q2_K(10, "q2_K", 256, 84),      // scales[16], qs[64], d, dmin          2.625 bpw
    Q3_K(11, "q3_K", 256, 110),     // hmask[32], qs[64], scales[12], d     3.4375 bpw
    Q4_K(12, "q4_K", 256, 144),     // d, dmin, scales[12], qs[128]         4.5 bpw
    Q5_K(13, "q5_K", 256, 176),     // d, dmin, scales[12], qh[32], qs[128] 5.5 bpw
    Q6_K(14, "q6_K", 256, 210),     // ql[128], qh[64], scales[16], d       6.5625 bpw
    Q8_K(15, "q8_K", 256, 292),     // d:f32, qs[256], bsums[16] int16      9.125 bpw
    IQ2_XXS(16, "iq2_xxs", 256, 66),
    IQ2_XS(17, "iq2_xs", 256, 74),
    IQ3_XXS(18, "iq3_xxs", 256, 98),
    IQ1_S(19, "iq1_s", 256, 50),
    IQ4_NL(20, "iq4_nl", 32, 18),   // d:f16, qs[16] (non-linear 4-bit)     4.5 bpw
    IQ3_S(21, "iq3_s", 256, 110),
    IQ2_S(22, "iq2_s", 256, 82),
    IQ4_XS(23, "iq4_xs", 256, 136), // d, scales_h, scales_l[4], qs[128]    4.25 bpw
    I8(24, "i8", 1, 1),
    I16(25, "i16", 1, 2),
    I32(26, "i32", 1, 4),
    I64(27, "i64", 1, 8),
    F64(28, "f64", 1, 8),
    IQ1_M(29, "iq1_m", 256, 56),
    BF16(30, "bf16", 1, 2),
    TQ1_0(34, "tq1_0", 256, 54),
    TQ2_0(35, "tq2_0", 256, 66),
    MXFP4(39, "mxfp4", 32, 17);

    private static final GgmlType[] BY_ID = new GgmlType[40];

    static {
        for (GgmlType t : values()) {
            BY_ID[t.id] = t;
        }
    }

    private final int id;
    private final String ggmlName;
    private final int blockSize;
    private final int blockBytes;

    GgmlType(int id, String ggmlName, int blockSize, int blockBytes) {
        this.id = id;
        this.ggmlName = ggmlName;
        this.blockSize = blockSize;
        this.blockBytes = blockBytes;
    }

    /** ggml's id (enum ggml_type), as stored in GGUF tensor infos. */
    public int id() {
        return id;
    }

    /** ggml's name of the type, e.g. {@code q4_K}. */
    public String ggmlName() {
        return ggmlName;
    }

    /** Elements per block. */
    public int blockSize() {
        return blockSize;
    }

    /** Bytes per block. */
    public int blockBytes() {
        return blockBytes;
    }

    public double bitsPerWeight() {
        return 8.0 * blockBytes / blockSize;
    }

    public boolean isQuantized() {
        return blockSize > 1;
    }

    /** Bytes of {@code elements} elements; the count must be a multiple of the block size. */
    public long bytesFor(long elements) {
        if (elements < 0 || elements % blockSize != 0) {
            throw new IllegalArgumentException(elements + " elements are not a whole number of " + ggmlName
                    + " blocks of " + blockSize);
        }
        return Math.multiplyExact(elements / blockSize, (long) blockBytes);
    }

    /** The type with ggml id {@code id}, if ggml has (or had and still reads) one. */
    public static Optional<GgmlType> byId(long id) {
        return id >= 0 && id < BY_ID.length ? Optional.ofNullable(BY_ID[(int) id]) : Optional.empty();
    }

    /** Looks a type up by ggml's name or this enum's name, case-insensitively. */
    public static Optional<GgmlType> byName(String name) {
        for (GgmlType t : values()) {
            if (t.name().equalsIgnoreCase(name) || t.ggmlName.equalsIgnoreCase(name)) {
                return Optional.of(t);
            }
        }
        return Optional.empty();
    }

    @Override
    public String toString() {
        return name().toUpperCase(Locale.ROOT);
    }
}
