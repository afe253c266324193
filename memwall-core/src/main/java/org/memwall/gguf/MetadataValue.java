package org.memwall.gguf;

/**
 * One metadata value as stored. Scalars hold a boxed Java value of the same width (unsigned values in
 * the signed type of that width: {@code Byte}, {@code Short}, {@code Integer}, {@code Long}; floats as
 * {@code Float}/{@code Double}; {@code Boolean}; {@code String}). Arrays hold an {@link Array}.
 */
public record MetadataValue(ValueType type, Object value) {

    /**
     * An array of {@code elementType}; {@code values} is a primitive Java array of the element width
     * ({@code byte[]}, {@code short[]}, {@code int[]}, {@code long[]}, {@code float[]},
     * {@code double[]}, {@code boolean[]}), a {@code String[]}, or an {@code Array[]} for nested arrays.
     */
    public record Array(ValueType elementType, Object values) {
        public int length() {
            return switch (values) {
                case byte[] a -> a.length;
                case short[] a -> a.length;
                case int[] a -> a.length;
                case long[] a -> a.length;
                case float[] a -> a.length;
                case double[] a -> a.length;
                case boolean[] a -> a.length;
                case Object[] a -> a.length;
                default -> throw new IllegalStateException("not an array: " + values);
            };
        }
    }

    /** The value as a long, for any integer type (unsigned types widen without sign). */
    public long asLong() {
        return switch (type) {
            case UINT8 -> Byte.toUnsignedLong((Byte) value);
            case INT8 -> (Byte) value;
            case UINT16 -> Short.toUnsignedLong((Short) value);
            case INT16 -> (Short) value;
            case UINT32 -> Integer.toUnsignedLong((Integer) value);
            case INT32 -> (Integer) value;
            case UINT64, INT64 -> (Long) value;
            default -> throw new IllegalStateException(type + " is not an integer");
        };
    }

    public double asDouble() {
        return switch (type) {
            case FLOAT32 -> (Float) value;
            case FLOAT64 -> (Double) value;
            default -> asLong();
        };
    }
}
