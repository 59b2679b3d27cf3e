package dev.gguf4j.gguf;

import java.util.Arrays;
import java.util.Objects;

/**
 * One metadata value: its GGUF type and its Java value. Scalars are boxed as {@link Long} (every integer type,
 * unsigned 64-bit values as their two's-complement bits), {@link Float}, {@link Double}, {@link Boolean} or
 * {@link String}; arrays are {@link GgufArray}.
 */
public record GgufValue(GgufValueType type, Object value) {

    public GgufValue {
        Objects.requireNonNull(type);
        Objects.requireNonNull(value);
    }

    public static GgufValue ofString(String s) {
        return new GgufValue(GgufValueType.STRING, s);
    }

    public static GgufValue ofUInt32(long v) {
        return new GgufValue(GgufValueType.UINT32, v);
    }

    public static GgufValue ofInt32(int v) {
        return new GgufValue(GgufValueType.INT32, (long) v);
    }

    public static GgufValue ofUInt64(long v) {
        return new GgufValue(GgufValueType.UINT64, v);
    }

    public static GgufValue ofFloat32(float v) {
        return new GgufValue(GgufValueType.FLOAT32, v);
    }

    public static GgufValue ofBool(boolean v) {
        return new GgufValue(GgufValueType.BOOL, v);
    }

    public static GgufValue ofArray(GgufArray a) {
        return new GgufValue(GgufValueType.ARRAY, a);
    }

    /** A short human-readable form: long arrays are summarised ({@code 32000 strings}). */
    public String summary() {
        return switch (value) {
            case GgufArray a -> a.summary();
            case String s -> s.length() > 80 ? '"' + s.substring(0, 77) + "...\"" : '"' + s + '"';
            default -> type == GgufValueType.UINT64 ? Long.toUnsignedString((Long) value) : value.toString();
        };
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof GgufValue v && v.type == type && v.value.equals(value);
    }

    @Override
    public int hashCode() {
        return type.hashCode() * 31 + value.hashCode();
    }

    /**
     * An array value. {@code values} holds the elements as a primitive array by element type: {@code long[]}
     * for every integer type, {@code float[]}, {@code double[]}, {@code boolean[]}, {@code String[]}, or
     * {@code GgufArray[]} for nested arrays.
     */
    public record GgufArray(GgufValueType elementType, Object values) {
        public int length() {
            return java.lang.reflect.Array.getLength(values);
        }

        public String summary() {
            String what = switch (elementType) {
                case STRING -> "strings";
                case ARRAY -> "arrays";
                default -> elementType.name().toLowerCase(java.util.Locale.ROOT);
            };
            int n = length();
            if (n <= 8 && elementType != GgufValueType.ARRAY) {
                String items = switch (values) {
                    case long[] l -> Arrays.toString(l);
                    case float[] f -> Arrays.toString(f);
                    case double[] d -> Arrays.toString(d);
                    case boolean[] b -> Arrays.toString(b);
                    case String[] s -> Arrays.toString(s);
                    default -> "";
                };
                return items + " (" + n + " " + what + ")";
            }
            return n + " " + what;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof GgufArray a && a.elementType == elementType && Arrays.deepEquals(
                    new Object[] {values}, new Object[] {a.values});
        }

        @Override
        public int hashCode() {
            return Arrays.deepHashCode(new Object[] {values}) * 31 + elementType.hashCode();
        }
    }
}
