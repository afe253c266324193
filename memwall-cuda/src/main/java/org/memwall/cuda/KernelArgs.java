package org.memwall.cuda;

import java.util.Arrays;

/**
 * A kernel's arguments in order, each with its C type: what {@code cuLaunchKernel}'s
 * {@code kernelParams} point at. Built once per launch site and reusable.
 */
public final class KernelArgs {
    /** The C type of an argument. */
    public enum Kind {
        POINTER(8), INT(4), LONG(8), FLOAT(4), DOUBLE(8);

        final int bytes;

        Kind(int bytes) {
            this.bytes = bytes;
        }
    }

    private Kind[] kinds = new Kind[12];
    private long[] bits = new long[12];
    private int count;

    private KernelArgs add(Kind kind, long value) {
        if (count == kinds.length) {
            kinds = Arrays.copyOf(kinds, count * 2);
            bits = Arrays.copyOf(bits, count * 2);
        }
        kinds[count] = kind;
        bits[count++] = value;
        return this;
    }

    /** A device address (0 for a null pointer). */
    public KernelArgs ptr(long address) {
        return add(Kind.POINTER, address);
    }

    public KernelArgs i32(int v) {
        return add(Kind.INT, v);
    }

    public KernelArgs i64(long v) {
        return add(Kind.LONG, v);
    }

    public KernelArgs f32(float v) {
        return add(Kind.FLOAT, Float.floatToRawIntBits(v));
    }

    public KernelArgs f64(double v) {
        return add(Kind.DOUBLE, Double.doubleToRawLongBits(v));
    }

    public int count() {
        return count;
    }

    public Kind kind(int i) {
        return kinds[check(i)];
    }

    /** The raw bits of argument i (an int or float in the low 32 bits). */
    public long bits(int i) {
        return bits[check(i)];
    }

    public long pointer(int i) {
        return expect(i, Kind.POINTER);
    }

    public int int32(int i) {
        return (int) expect(i, Kind.INT);
    }

    public long int64(int i) {
        return expect(i, Kind.LONG);
    }

    public float float32(int i) {
        return Float.intBitsToFloat((int) expect(i, Kind.FLOAT));
    }

    public double float64(int i) {
        return Double.longBitsToDouble(expect(i, Kind.DOUBLE));
    }

    private long expect(int i, Kind kind) {
        if (kinds[check(i)] != kind) {
            throw new IllegalArgumentException("kernel argument " + i + " is " + kinds[i] + ", not " + kind);
        }
        return bits[i];
    }

    private int check(int i) {
        if (i < 0 || i >= count) {
            throw new IllegalArgumentException("kernel argument " + i + " of " + count);
        }
        return i;
    }
}
