package org.memwall.tokenizer;

import java.util.List;

/**
 * Kimi K2's pre-tokenizer, which llama.cpp runs as a hand-written scanner rather than a regular
 * expression. Scanning left to right, the first rule that applies at the current code point takes:
 * <ol>
 *   <li>a run of Han ideographs;</li>
 *   <li>a word: one optional character that is not a letter, digit, CR or LF (a space, a tab, a
 *       mark), then non-Han letters ({@code \p{L}} only, not marks), then an optional contraction
 *       {@code 's 't 're 've 'm 'll 'd} in either case;</li>
 *   <li>up to 3 digits ({@code \p{N}});</li>
 *   <li>an optional space and a run of characters that are neither whitespace, letters nor digits,
 *       with the CR/LF after them;</li>
 *   <li>whitespace up to and including its last CR or LF; else a whitespace run less its last
 *       character when more text follows it; else the whole run;</li>
 *   <li>otherwise one code point.</li>
 * </ol>
 */
final class KimiK2Split {
    private KimiK2Split() {
    }

    static void split(String piece, List<String> out) {
        int[] cps = piece.codePoints().toArray();
        int n = cps.length;
        int[] at = new int[n + 1]; // char index of each code point
        for (int i = 0, c = 0; i < n; i++) {
            at[i] = c;
            c += Character.charCount(cps[i]);
        }
        at[n] = piece.length();
        int pos = 0;
        while (pos < n) {
            int end = next(cps, pos);
            out.add(piece.substring(at[pos], at[end]));
            pos = end;
        }
    }

    /** The end of the piece that starts at {@code pos}. */
    private static int next(int[] cps, int pos) {
        int n = cps.length;
        int c = cps[pos];
        if (isHan(c)) {
            int end = pos;
            while (end < n && isHan(cps[end])) {
                end++;
            }
            return end;
        }
        boolean leading = !(c == '\r' || c == '\n' || Character.isLetter(c) || PreTokenizer.isNumber(c));
        if (isWordLetter(c) || (leading && pos + 1 < n && isWordLetter(cps[pos + 1]))) {
            int end = leading ? pos + 1 : pos;
            while (end < n && isWordLetter(cps[end])) {
                end++;
            }
            return end + contraction(cps, end);
        }
        if (PreTokenizer.isNumber(c)) {
            int end = pos;
            while (end < n && end - pos < 3 && PreTokenizer.isNumber(cps[end])) {
                end++;
            }
            return end;
        }
        int first = c == ' ' ? pos + 1 : pos;
        if (first < n && isSymbol(cps[first])) {
            int end = first;
            while (end < n && isSymbol(cps[end])) {
                end++;
            }
            while (end < n && (cps[end] == '\r' || cps[end] == '\n')) {
                end++;
            }
            return end;
        }
        int spaces = 0;
        int afterNewline = -1;
        while (pos + spaces < n && isWhiteSpace(cps[pos + spaces])) {
            int w = cps[pos + spaces];
            spaces++;
            if (w == '\r' || w == '\n') {
                afterNewline = pos + spaces;
            }
        }
        if (afterNewline >= 0) {
            return afterNewline;
        }
        if (spaces > 1 && pos + spaces < n) {
            return pos + spaces - 1;
        }
        return spaces > 0 ? pos + spaces : pos + 1;
    }

    /** The length of a contraction at {@code pos} (ASCII, either case), or 0. */
    private static int contraction(int[] cps, int pos) {
        int n = cps.length;
        if (pos + 1 >= n || cps[pos] != '\'') {
            return 0;
        }
        int a = lower(cps[pos + 1]);
        if (a == 's' || a == 't' || a == 'm' || a == 'd') {
            return 2;
        }
        if (pos + 2 < n) {
            int b = lower(cps[pos + 2]);
            if ((a == 'r' && b == 'e') || (a == 'v' && b == 'e') || (a == 'l' && b == 'l')) {
                return 3;
            }
        }
        return 0;
    }

    private static int lower(int c) {
        return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c;
    }

    private static boolean isWordLetter(int c) {
        return Character.isLetter(c) && !isHan(c);
    }

    private static boolean isSymbol(int c) {
        return !(isWhiteSpace(c) || Character.isLetter(c) || PreTokenizer.isNumber(c));
    }

    /** Unicode's White_Space property (what {@code \s} means to llama.cpp). */
    static boolean isWhiteSpace(int c) {
        return (c >= '\t' && c <= '\r') || c == 0x85 || Character.isSpaceChar(c);
    }

    /** The Han ranges llama.cpp's Kimi scanner uses: CJK unified ideographs, extensions A-F, compatibility. */
    static boolean isHan(int c) {
        return (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF) || (c >= 0x20000 && c <= 0x2A6DF)
                || (c >= 0x2A700 && c <= 0x2B73F) || (c >= 0x2B740 && c <= 0x2B81F) || (c >= 0x2B820 && c <= 0x2CEAF)
                || (c >= 0x2CEB0 && c <= 0x2EBEF) || (c >= 0xF900 && c <= 0xFAFF) || (c >= 0x2F800 && c <= 0x2FA1F);
    }
}
