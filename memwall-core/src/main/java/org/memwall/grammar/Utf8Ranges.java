package org.memwall.grammar;

import java.util.ArrayList;
import java.util.List;

/**
 * Turns a range of Unicode code points into the byte sequences that encode exactly those code
 * points in UTF-8, so a byte-level matcher accepts a character class without decoding. Each result
 * is a list of byte ranges {@code [lo, hi]}, one per byte position; surrogates are never produced.
 */
final class Utf8Ranges {
    /** One byte range of a sequence: bytes {@code lo..hi} (0..255). */
    record ByteRange(int lo, int hi) {
    }

    private static final int[] MAX_FOR_LENGTH = {0x7F, 0x7FF, 0xFFFF, 0x10FFFF};

    private Utf8Ranges() {
    }

    /** The byte-range sequences for code points {@code lo..hi} (inclusive). */
    static List<List<ByteRange>> of(int lo, int hi) {
        List<List<ByteRange>> out = new ArrayList<>();
        // Surrogates cannot be encoded: split around them.
        if (lo <= 0xDFFF && hi >= 0xD800) {
            if (lo < 0xD800) {
                split(lo, 0xD7FF, out);
            }
            if (hi > 0xDFFF) {
                split(0xE000, hi, out);
            }
        } else {
            split(lo, hi, out);
        }
        return out;
    }

    private static void split(int lo, int hi, List<List<ByteRange>> out) {
        if (lo > hi) {
            return;
        }
        // A range whose ends encode to different lengths is split at the length boundary.
        for (int max : MAX_FOR_LENGTH) {
            if (lo <= max && hi > max) {
                split(lo, max, out);
                split(max + 1, hi, out);
                return;
            }
        }
        int n = length(lo);
        if (n == 1) {
            out.add(List.of(new ByteRange(lo, hi)));
            return;
        }
        // Split until every continuation byte spans its full range wherever a leading byte varies:
        // then the sequence is the byte-wise product of lo's and hi's encodings.
        for (int i = 1; i < n; i++) {
            int m = (1 << (6 * i)) - 1;
            if ((lo & ~m) != (hi & ~m)) {
                if ((lo & m) != 0) {
                    split(lo, lo | m, out);
                    split((lo | m) + 1, hi, out);
                    return;
                }
                if ((hi & m) != m) {
                    split(lo, (hi & ~m) - 1, out);
                    split(hi & ~m, hi, out);
                    return;
                }
            }
        }
        byte[] a = encode(lo);
        byte[] b = encode(hi);
        List<ByteRange> seq = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            seq.add(new ByteRange(a[i] & 0xFF, b[i] & 0xFF));
        }
        out.add(seq);
    }

    private static int length(int cp) {
        return cp <= 0x7F ? 1 : cp <= 0x7FF ? 2 : cp <= 0xFFFF ? 3 : 4;
    }

    static byte[] encode(int cp) {
        return new String(Character.toChars(cp)).getBytes(java.nio.charset.StandardCharsets.UTF_8);
    }
}
