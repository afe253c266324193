package org.memwall.gguf;

/** GGUF metadata value types, with their ids and (for fixed-size types) their width in bytes. */
public enum ValueType {
    UINT8(0, 1), INT8(1, 1), UINT16(2, 2), INT16(3, 2), UINT32(4, 4), INT32(5, 4), FLOAT32(6, 4),
    BOOL(7, 1), STRING(8, 8), ARRAY(9, 12), UINT64(10, 8), INT64(11, 8), FLOAT64(12, 8);

    public final int id;
    /** Bytes one value takes at least: its width, or the length prefix(es) for strings and arrays. */
    public final int minBytes;

    ValueType(int id, int minBytes) {
        this.id = id;
        this.minBytes = minBytes;
    }

    public static ValueType byId(long id) {
        for (ValueType t : values()) {
            if (t.id == id) {
                return t;
            }
        }
        return null;
    }

    public boolean isInteger() {
        return switch (this) {
            case UINT8, INT8, UINT16, INT16, UINT32, INT32, UINT64, INT64 -> true;
            default -> false;
        };
    }
}
