package dev.gguf4j.gguf;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * The key/value metadata of a GGUF file, in file order. Typed getters fail with a {@link GgufFormatException}
 * that names the key, the type found and the type wanted.
 */
public final class GgufMetadata {
    private final String source;
    private final LinkedHashMap<String, GgufValue> entries;

    public GgufMetadata(String source, Map<String, GgufValue> entries) {
        this.source = source;
        this.entries = new LinkedHashMap<>(entries);
    }

    /** All entries in file order (unmodifiable). */
    public Map<String, GgufValue> asMap() {
        return Collections.unmodifiableMap(entries);
    }

    public int size() {
        return entries.size();
    }

    public boolean contains(String key) {
        return entries.containsKey(key);
    }

    public Optional<GgufValue> get(String key) {
        return Optional.ofNullable(entries.get(key));
    }

    public GgufValue require(String key) {
        GgufValue v = entries.get(key);
        if (v == null) {
            throw new GgufFormatException(source, key, "required key is missing");
        }
        return v;
    }

    public String getString(String key) {
        return (String) typed(key, require(key), GgufValueType.STRING);
    }

    public Optional<String> findString(String key) {
        return get(key).map(v -> (String) typed(key, v, GgufValueType.STRING));
    }

    /** An integer of any GGUF integer type; unsigned 64-bit values above Long.MAX_VALUE are refused. */
    public long getLong(String key) {
        return integer(key, require(key));
    }

    public Optional<Long> findLong(String key) {
        return get(key).map(v -> integer(key, v));
    }

    /** An integer that must fit in an int and lie in [min, max]. */
    public int getInt(String key, int min, int max) {
        long v = getLong(key);
        if (v < min || v > max) {
            throw new GgufFormatException(source, key, "value " + v + " is outside [" + min + ", " + max + "]");
        }
        return (int) v;
    }

    /** A FLOAT32 or FLOAT64 value as float. */
    public float getFloat(String key) {
        return number(key, require(key));
    }

    public Optional<Float> findFloat(String key) {
        return get(key).map(v -> number(key, v));
    }

    public boolean getBool(String key) {
        return (Boolean) typed(key, require(key), GgufValueType.BOOL);
    }

    public Optional<Boolean> findBool(String key) {
        return get(key).map(v -> (Boolean) typed(key, v, GgufValueType.BOOL));
    }

    public GgufValue.GgufArray getArray(String key) {
        return (GgufValue.GgufArray) typed(key, require(key), GgufValueType.ARRAY);
    }

    public Optional<GgufValue.GgufArray> findArray(String key) {
        return get(key).map(v -> (GgufValue.GgufArray) typed(key, v, GgufValueType.ARRAY));
    }

    /** A string array's elements. */
    public String[] getStringArray(String key) {
        GgufValue.GgufArray a = getArray(key);
        if (a.elementType() != GgufValueType.STRING) {
            throw new GgufFormatException(source, key, "array of " + a.elementType() + ", expected array of STRING");
        }
        return (String[]) a.values();
    }

    private Object typed(String key, GgufValue v, GgufValueType want) {
        if (v.type() != want) {
            throw new GgufFormatException(source, key, "has type " + v.type() + ", expected " + want);
        }
        return v.value();
    }

    private long integer(String key, GgufValue v) {
        if (!v.type().isInteger()) {
            throw new GgufFormatException(source, key, "has type " + v.type() + ", expected an integer");
        }
        long x = (Long) v.value();
        if (v.type() == GgufValueType.UINT64 && x < 0) {
            throw new GgufFormatException(source, key, "value " + Long.toUnsignedString(x) + " exceeds " + Long.MAX_VALUE);
        }
        return x;
    }

    private float number(String key, GgufValue v) {
        return switch (v.type()) {
            case FLOAT32 -> (Float) v.value();
            case FLOAT64 -> (float) (double) (Double) v.value();
            default -> throw new GgufFormatException(source, key, "has type " + v.type() + ", expected FLOAT32");
        };
    }
}
