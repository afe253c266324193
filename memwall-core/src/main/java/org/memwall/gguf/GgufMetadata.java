package org.memwall.gguf;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import org.memwall.MemwallException;

/**
 * The key/value metadata of a GGUF file, in file order, with typed accessors. A value of the wrong
 * type for its key is an error that names the key, never a ClassCastException.
 */
public final class GgufMetadata {
    private final Map<String, MetadataValue> values;

    public GgufMetadata(Map<String, MetadataValue> values) {
        this.values = Collections.unmodifiableMap(new LinkedHashMap<>(values));
    }

    public Map<String, MetadataValue> asMap() {
        return values;
    }

    public boolean contains(String key) {
        return values.containsKey(key);
    }

    public MetadataValue get(String key) {
        return values.get(key);
    }

    public String getString(String key) {
        MetadataValue v = require(key);
        if (v.type() != ValueType.STRING) {
            throw wrongType(key, v, "a string");
        }
        return (String) v.value();
    }

    public String getString(String key, String fallback) {
        return contains(key) ? getString(key) : fallback;
    }

    public long getLong(String key) {
        MetadataValue v = require(key);
        if (!v.type().isInteger()) {
            throw wrongType(key, v, "an integer");
        }
        return v.asLong();
    }

    public long getLong(String key, long fallback) {
        return contains(key) ? getLong(key) : fallback;
    }

    /** An integer that must fit an int and be non-negative (counts, dimensions, ids). */
    public int getCount(String key) {
        long v = getLong(key);
        if (v < 0 || v > Integer.MAX_VALUE) {
            throw new MemwallException("metadata key '" + key + "' has value " + v + ", outside 0.." + Integer.MAX_VALUE);
        }
        return (int) v;
    }

    public int getCount(String key, int fallback) {
        return contains(key) ? getCount(key) : fallback;
    }

    public float getFloat(String key) {
        MetadataValue v = require(key);
        if (v.type() != ValueType.FLOAT32 && v.type() != ValueType.FLOAT64 && !v.type().isInteger()) {
            throw wrongType(key, v, "a number");
        }
        return (float) v.asDouble();
    }

    public float getFloat(String key, float fallback) {
        return contains(key) ? getFloat(key) : fallback;
    }

    public boolean getBoolean(String key, boolean fallback) {
        if (!contains(key)) {
            return fallback;
        }
        MetadataValue v = get(key);
        if (v.type() == ValueType.BOOL) {
            return (Boolean) v.value();
        }
        if (v.type().isInteger()) {
            return v.asLong() != 0;
        }
        throw wrongType(key, v, "a boolean");
    }

    public MetadataValue.Array getArray(String key) {
        MetadataValue v = require(key);
        if (v.type() != ValueType.ARRAY) {
            throw wrongType(key, v, "an array");
        }
        return (MetadataValue.Array) v.value();
    }

    public String[] getStringArray(String key) {
        MetadataValue.Array a = getArray(key);
        if (a.elementType() != ValueType.STRING) {
            throw new MemwallException("metadata key '" + key + "' must be an array of strings, found an array of " + a.elementType());
        }
        return (String[]) a.values();
    }

    public float[] getFloatArray(String key) {
        MetadataValue.Array a = getArray(key);
        return switch (a.values()) {
            case float[] f -> f;
            case double[] d -> {
                float[] f = new float[d.length];
                for (int i = 0; i < d.length; i++) {
                    f[i] = (float) d[i];
                }
                yield f;
            }
            default -> throw new MemwallException("metadata key '" + key + "' must be an array of floats, found an array of " + a.elementType());
        };
    }

    /** An array of any integer type, as ints (unsigned 8/16-bit values widen without sign). */
    public int[] getIntArray(String key) {
        MetadataValue.Array a = getArray(key);
        boolean unsigned = a.elementType() == ValueType.UINT8 || a.elementType() == ValueType.UINT16;
        return switch (a.values()) {
            case int[] i -> i;
            case byte[] b -> {
                int[] r = new int[b.length];
                for (int i = 0; i < b.length; i++) {
                    r[i] = unsigned ? Byte.toUnsignedInt(b[i]) : b[i];
                }
                yield r;
            }
            case short[] s -> {
                int[] r = new int[s.length];
                for (int i = 0; i < s.length; i++) {
                    r[i] = unsigned ? Short.toUnsignedInt(s[i]) : s[i];
                }
                yield r;
            }
            case long[] l -> {
                int[] r = new int[l.length];
                for (int i = 0; i < l.length; i++) {
                    r[i] = Math.toIntExact(l[i]);
                }
                yield r;
            }
            case boolean[] b -> {
                int[] r = new int[b.length];
                for (int i = 0; i < b.length; i++) {
                    r[i] = b[i] ? 1 : 0;
                }
                yield r;
            }
            default -> throw new MemwallException("metadata key '" + key + "' must be an array of integers, found an array of " + a.elementType());
        };
    }

    private MetadataValue require(String key) {
        MetadataValue v = values.get(key);
        if (v == null) {
            throw new MemwallException("missing metadata key '" + key + "'");
        }
        return v;
    }

    private static MemwallException wrongType(String key, MetadataValue v, String expected) {
        return new MemwallException("metadata key '" + key + "' must be " + expected + ", found " + v.type());
    }
}
