package org.memwall.quant;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.EnumSet;
import java.util.Set;
import org.memwall.MemwallException;
import org.memwall.gguf.GgmlType;

/**
 * Float weights to ggml blocks, producing the same bytes as llama.cpp's reference quantizers
 * ({@code quantize_row_*_ref}, what {@code llama-quantize} runs without an importance matrix). Float
 * arithmetic follows the reference operation by operation (Java floats are IEEE single precision with
 * round-to-nearest-even, as C's are); ties of {@code roundf} go away from zero, those of ggml's
 * {@code nearest_int} to even, and halves are rounded to nearest-even like F16C.
 */
public final class Quantizer {
    private static final Set<GgmlType> SUPPORTED = EnumSet.of(
            GgmlType.F32, GgmlType.F16, GgmlType.BF16, GgmlType.Q8_0, GgmlType.Q5_0, GgmlType.Q4_0, GgmlType.Q4_K, GgmlType.Q6_K);

    private Quantizer() {
    }

    public static boolean supports(GgmlType type) {
        return SUPPORTED.contains(type);
    }

    public static Set<GgmlType> supported() {
        return EnumSet.copyOf(SUPPORTED);
    }

    /**
     * Writes {@code x[offset .. offset + n)} as blocks of {@code type} into {@code out} (little-endian
     * order is set on it). {@code n} must be a multiple of the type's block size.
     */
    public static void quantize(GgmlType type, float[] x, int offset, int n, ByteBuffer out) {
        if (!supports(type)) {
            throw new MemwallException("memwall cannot quantize to " + type + " (it can: " + SUPPORTED + ")");
        }
        if (n % type.blockSize != 0) {
            throw new MemwallException(type + " needs rows that are a multiple of " + type.blockSize + " elements, got " + n);
        }
        out.order(ByteOrder.LITTLE_ENDIAN);
        switch (type) {
            case F32 -> {
                for (int i = 0; i < n; i++) {
                    out.putFloat(x[offset + i]);
                }
            }
            case F16 -> {
                for (int i = 0; i < n; i++) {
                    out.putShort(Float.floatToFloat16(x[offset + i]));
                }
            }
            case BF16 -> {
                for (int i = 0; i < n; i++) {
                    out.putShort(bf16(x[offset + i]));
                }
            }
            case Q8_0 -> blocks(x, offset, n, out, type, Quantizer::q8_0);
            case Q5_0 -> blocks(x, offset, n, out, type, Quantizer::q5_0);
            case Q4_0 -> blocks(x, offset, n, out, type, Quantizer::q4_0);
            case Q4_K -> blocks(x, offset, n, out, type, Quantizer::q4_K);
            case Q6_K -> blocks(x, offset, n, out, type, Quantizer::q6_K);
            default -> throw new AssertionError(type);
        }
    }

    /** Writes one block of the elements starting at {@code x[offset]}. */
    @FunctionalInterface
    private interface BlockQuantizer {
        void write(float[] x, int offset, ByteBuffer out);
    }

    private static void blocks(float[] x, int offset, int n, ByteBuffer out, GgmlType type, BlockQuantizer block) {
        for (int b = 0; b < n; b += type.blockSize) {
            block.write(x, offset + b, out);
        }
    }

    /** A whole tensor's bytes, rows of {@code rowLength} elements. */
    public static byte[] quantize(GgmlType type, float[] x, int rowLength) {
        ByteBuffer out = ByteBuffer.allocate(Math.toIntExact(type.bytesFor(x.length)));
        for (int r = 0; r < x.length; r += rowLength) {
            quantize(type, x, r, rowLength, out);
        }
        return out.array();
    }

    /** fp32 → bf16, round to nearest even; NaNs stay quiet NaNs. */
    static short bf16(float f) {
        int u = Float.floatToRawIntBits(f);
        if ((u & 0x7fffffff) > 0x7f800000) {
            return (short) ((u >>> 16) | 64);
        }
        return (short) ((u + (0x7fff + ((u >>> 16) & 1))) >>> 16);
    }

    /** C's roundf: halves away from zero. */
    private static int roundAway(float v) {
        return (int) Math.copySign(Math.floor(Math.abs((double) v) + 0.5), v);
    }

    /** ggml's nearest_int: the float plus 1.5·2^23 keeps the rounded integer in its mantissa (ties to even). */
    private static int nearestInt(float v) {
        float shifted = v + 12582912.0f;
        return (Float.floatToRawIntBits(shifted) & 0x007fffff) - 0x00400000;
    }

    private static void q8_0(float[] x, int o, ByteBuffer out) {
        float amax = 0;
        for (int j = 0; j < 32; j++) {
            amax = Math.max(amax, Math.abs(x[o + j]));
        }
        float d = amax / 127;
        float id = d != 0 ? 1.0f / d : 0.0f;
        out.putShort(Float.floatToFloat16(d));
        for (int j = 0; j < 32; j++) {
            out.put((byte) roundAway(x[o + j] * id));
        }
    }

    /** The first of the block's 32 values with the largest magnitude, sign kept (Q4_0 and Q5_0 scale by it). */
    private static float signedAbsMax(float[] x, int o) {
        float amax = 0;
        float max = 0;
        for (int j = 0; j < 32; j++) {
            float v = x[o + j];
            if (amax < Math.abs(v)) {
                amax = Math.abs(v);
                max = v;
            }
        }
        return max;
    }

    private static void q4_0(float[] x, int o, ByteBuffer out) {
        float d = signedAbsMax(x, o) / -8;
        float id = d != 0 ? 1.0f / d : 0.0f;
        out.putShort(Float.floatToFloat16(d));
        for (int j = 0; j < 16; j++) {
            int lo = Math.min(15, (byte) (int) (x[o + j] * id + 8.5f));
            int hi = Math.min(15, (byte) (int) (x[o + 16 + j] * id + 8.5f));
            out.put((byte) (lo | hi << 4));
        }
    }

    private static void q5_0(float[] x, int o, ByteBuffer out) {
        float d = signedAbsMax(x, o) / -16;
        float id = d != 0 ? 1.0f / d : 0.0f;
        int qh = 0;
        byte[] qs = new byte[16];
        for (int j = 0; j < 16; j++) {
            int lo = Math.min(31, (byte) (int) (x[o + j] * id + 16.5f));
            int hi = Math.min(31, (byte) (int) (x[o + 16 + j] * id + 16.5f));
            qs[j] = (byte) ((lo & 0x0F) | (hi & 0x0F) << 4);
            qh |= ((lo & 0x10) >>> 4) << j;
            qh |= ((hi & 0x10) >>> 4) << (j + 16);
        }
        out.putShort(Float.floatToFloat16(d));
        out.putInt(qh);
        out.put(qs);
    }

    private static void q4_K(float[] x, int o, ByteBuffer out) {
        byte[] levels = new byte[256];
        byte[] aux = new byte[32];
        float[] weights = new float[32];
        float[] scales = new float[8];
        float[] mins = new float[8];
        float[] min = new float[1];
        float maxScale = 0;
        float maxMin = 0;
        for (int j = 0; j < 8; j++) {
            int s = o + 32 * j;
            float sumX2 = 0;
            for (int l = 0; l < 32; l++) {
                sumX2 += x[s + l] * x[s + l];
            }
            float avX = (float) Math.sqrt(sumX2 / 32);
            for (int l = 0; l < 32; l++) {
                weights[l] = avX + Math.abs(x[s + l]);
            }
            scales[j] = scaleAndMin(32, 15, x, s, weights, levels, 32 * j, min, aux, -1.0f, 0.1f, 20);
            mins[j] = min[0];
            maxScale = Math.max(maxScale, scales[j]);
            maxMin = Math.max(maxMin, mins[j]);
        }
        float invScale = maxScale > 0 ? 63.0f / maxScale : 0.0f;
        float invMin = maxMin > 0 ? 63.0f / maxMin : 0.0f;
        byte[] packed = new byte[12];
        for (int j = 0; j < 8; j++) {
            int ls = Math.min(63, nearestInt(invScale * scales[j]) & 0xFF);
            int lm = Math.min(63, nearestInt(invMin * mins[j]) & 0xFF);
            if (j < 4) {
                packed[j] = (byte) ls;
                packed[j + 4] = (byte) lm;
            } else {
                packed[j + 4] = (byte) ((ls & 0xF) | ((lm & 0xF) << 4));
                packed[j - 4] |= (byte) ((ls >> 4) << 6);
                packed[j] |= (byte) ((lm >> 4) << 6);
            }
        }
        short dBits = Float.floatToFloat16(maxScale / 63.0f);
        short dminBits = Float.floatToFloat16(maxMin / 63.0f);
        float d = Float.float16ToFloat(dBits);
        float dmin = Float.float16ToFloat(dminBits);
        for (int j = 0; j < 8; j++) {
            int sc;
            int m;
            if (j < 4) {
                sc = packed[j] & 63;
                m = packed[j + 4] & 63;
            } else {
                sc = (packed[j + 4] & 0xF) | (((packed[j - 4] & 0xFF) >> 6) << 4);
                m = ((packed[j + 4] & 0xFF) >> 4) | (((packed[j] & 0xFF) >> 6) << 4);
            }
            float ds = d * sc;
            if (ds == 0) {
                continue;
            }
            float dm = dmin * m;
            for (int i = 0; i < 32; i++) {
                int l = nearestInt((x[o + 32 * j + i] + dm) / ds);
                levels[32 * j + i] = (byte) Math.max(0, Math.min(15, l));
            }
        }
        out.putShort(dBits);
        out.putShort(dminBits);
        out.put(packed);
        for (int j = 0; j < 256; j += 64) {
            for (int l = 0; l < 32; l++) {
                out.put((byte) (levels[j + l] | levels[j + l + 32] << 4));
            }
        }
    }

    /**
     * ggml's make_qkx2_quants: the scale and (returned through {@code theMin}, negated) minimum of an
     * asymmetric n-level grid for {@code x[xo .. xo + n)}, searching {@code nstep + 1} grid widths
     * around nmax for the least weighted squared error; levels go to {@code levels[lo ..]}.
     */
    private static float scaleAndMin(int n, int nmax, float[] x, int xo, float[] weights, byte[] levels, int lo,
                                     float[] theMin, byte[] aux, float rmin, float rdelta, int nstep) {
        float min = x[xo];
        float max = x[xo];
        float sumW = weights[0];
        float sumX = sumW * x[xo];
        for (int i = 1; i < n; i++) {
            float v = x[xo + i];
            if (v < min) {
                min = v;
            }
            if (v > max) {
                max = v;
            }
            float w = weights[i];
            sumW += w;
            sumX += w * v;
        }
        if (min > 0) {
            min = 0;
        }
        if (max == min) {
            for (int i = 0; i < n; i++) {
                levels[lo + i] = 0;
            }
            theMin[0] = -min;
            return 0.0f;
        }
        float iscale = nmax / (max - min);
        float scale = 1 / iscale;
        float bestError = 0;
        for (int i = 0; i < n; i++) {
            int l = Math.max(0, Math.min(nmax, nearestInt(iscale * (x[xo + i] - min))));
            levels[lo + i] = (byte) l;
            float diff = scale * l + min - x[xo + i];
            bestError += weights[i] * (diff * diff);
        }
        for (int is = 0; is <= nstep; is++) {
            iscale = (rmin + rdelta * is + nmax) / (max - min);
            float sumL = 0;
            float sumL2 = 0;
            float sumXL = 0;
            for (int i = 0; i < n; i++) {
                int l = Math.max(0, Math.min(nmax, nearestInt(iscale * (x[xo + i] - min))));
                aux[i] = (byte) l;
                float w = weights[i];
                sumL += w * l;
                sumL2 += w * l * l;
                sumXL += w * l * x[xo + i];
            }
            float det = sumW * sumL2 - sumL * sumL;
            if (det > 0) {
                float thisScale = (sumW * sumXL - sumX * sumL) / det;
                float thisMin = (sumL2 * sumX - sumL * sumXL) / det;
                if (thisMin > 0) {
                    thisMin = 0;
                    thisScale = sumXL / sumL2;
                }
                float error = 0;
                for (int i = 0; i < n; i++) {
                    float diff = thisScale * aux[i] + thisMin - x[xo + i];
                    error += weights[i] * (diff * diff);
                }
                if (error < bestError) {
                    System.arraycopy(aux, 0, levels, lo, n);
                    bestError = error;
                    scale = thisScale;
                    min = thisMin;
                }
            }
        }
        theMin[0] = -min;
        return scale;
    }

    private static final float GROUP_MAX_EPS = 1e-15f;

    private static void q6_K(float[] x, int o, ByteBuffer out) {
        byte[] levels = new byte[256];
        float[] scales = new float[16];
        float maxScale = 0;
        float maxAbsScale = 0;
        for (int ib = 0; ib < 16; ib++) {
            float scale = symmetricScale(16, 32, x, o + 16 * ib, levels, 16 * ib);
            scales[ib] = scale;
            if (Math.abs(scale) > maxAbsScale) {
                maxAbsScale = Math.abs(scale);
                maxScale = scale;
            }
        }
        if (maxAbsScale < GROUP_MAX_EPS) {
            out.put(new byte[210]);
            return;
        }
        float iscale = -128.0f / maxScale;
        short dBits = Float.floatToFloat16(1 / iscale);
        float d = Float.float16ToFloat(dBits);
        byte[] sc = new byte[16];
        for (int ib = 0; ib < 16; ib++) {
            sc[ib] = (byte) Math.min(127, nearestInt(iscale * scales[ib]));
        }
        for (int j = 0; j < 16; j++) {
            float ds = d * sc[j];
            if (ds == 0) {
                continue;
            }
            for (int i = 0; i < 16; i++) {
                int l = nearestInt(x[o + 16 * j + i] / ds);
                levels[16 * j + i] = (byte) (Math.max(-32, Math.min(31, l)) + 32);
            }
        }
        byte[] ql = new byte[128];
        byte[] qh = new byte[64];
        for (int j = 0, qlo = 0, qho = 0; j < 256; j += 128, qlo += 64, qho += 32) {
            for (int l = 0; l < 32; l++) {
                int q1 = levels[j + l];
                int q2 = levels[j + l + 32];
                int q3 = levels[j + l + 64];
                int q4 = levels[j + l + 96];
                ql[qlo + l] = (byte) ((q1 & 0xF) | (q3 & 0xF) << 4);
                ql[qlo + l + 32] = (byte) ((q2 & 0xF) | (q4 & 0xF) << 4);
                qh[qho + l] = (byte) ((q1 >> 4) | (q2 >> 4) << 2 | (q3 >> 4) << 4 | (q4 >> 4) << 6);
            }
        }
        out.put(ql);
        out.put(qh);
        out.put(sc);
        out.putShort(dBits);
    }

    /**
     * ggml's make_qx_quants with rmse_type 1 (weights x²): the scale of a symmetric grid
     * [−nmax, nmax − 1] for {@code x[xo .. xo + n)}, refined over 18 nearby grid widths; levels
     * (offset by nmax) go to {@code levels[lo ..]}.
     */
    private static float symmetricScale(int n, int nmax, float[] x, int xo, byte[] levels, int lo) {
        float max = 0;
        float amax = 0;
        for (int i = 0; i < n; i++) {
            float ax = Math.abs(x[xo + i]);
            if (ax > amax) {
                amax = ax;
                max = x[xo + i];
            }
        }
        if (amax < GROUP_MAX_EPS) {
            for (int i = 0; i < n; i++) {
                levels[lo + i] = 0;
            }
            return 0.0f;
        }
        float iscale = -nmax / max;
        float sumLX = 0;
        float sumL2 = 0;
        for (int i = 0; i < n; i++) {
            float v = x[xo + i];
            int l = Math.max(-nmax, Math.min(nmax - 1, nearestInt(iscale * v)));
            levels[lo + i] = (byte) (l + nmax);
            float w = v * v;
            sumLX += w * v * l;
            sumL2 += w * l * l;
        }
        float scale = sumL2 != 0 ? sumLX / sumL2 : 0.0f;
        float best = scale * sumLX;
        for (int is = -9; is <= 9; is++) {
            if (is == 0) {
                continue;
            }
            iscale = -(nmax + 0.1f * is) / max;
            sumLX = 0;
            sumL2 = 0;
            for (int i = 0; i < n; i++) {
                float v = x[xo + i];
                int l = Math.max(-nmax, Math.min(nmax - 1, nearestInt(iscale * v)));
                float w = v * v;
                sumLX += w * v * l;
                sumL2 += w * l * l;
            }
            if (sumL2 > 0 && sumLX * sumLX > best * sumL2) {
                for (int i = 0; i < n; i++) {
                    int l = nearestInt(iscale * x[xo + i]);
                    levels[lo + i] = (byte) (nmax + Math.max(-nmax, Math.min(nmax - 1, l)));
                }
                scale = sumLX / sumL2;
                best = scale * sumLX;
            }
        }
        return scale;
    }
}
