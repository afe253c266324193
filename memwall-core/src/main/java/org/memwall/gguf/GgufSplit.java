package org.memwall.gguf;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.memwall.MemwallException;

/**
 * The rules of llama.cpp's split GGUF files: parts are named {@code PREFIX-%05d-of-%05d.gguf}
 * (numbered from 1), every part carries {@code split.no} (from 0) and {@code split.count}, and the
 * first part also {@code split.tensors.count}, the number of tensors of all parts together.
 */
public final class GgufSplit {
    public static final String NO = "split.no";
    public static final String COUNT = "split.count";
    public static final String TENSORS_COUNT = "split.tensors.count";
    /** gguf-split writes at most 99999 parts (five digits). */
    static final int MAX_PARTS = 99_999;
    private static final Pattern NAME = Pattern.compile("(.+)-(\\d{5})-of-(\\d{5})\\.gguf");

    private GgufSplit() {
    }

    /** The name of part {@code no} (from 1) of {@code count}. */
    public static String partName(String prefix, int no, int count) {
        return String.format(Locale.ROOT, "%s-%05d-of-%05d.gguf", prefix, no, count);
    }

    /** The prefix and part count a split part's file name carries, or null for another name. */
    public static Matcher match(String fileName) {
        Matcher m = NAME.matcher(fileName);
        return m.matches() ? m : null;
    }

    /** 1 for a whole file; the part count for the first part of a split model; an error for a later part. */
    static int partCount(GgufFile file) {
        GgufMetadata md = file.metadata();
        if (!md.contains(COUNT)) {
            return 1;
        }
        long count = md.getLong(COUNT);
        long no = md.getLong(NO, 0);
        if (count < 1 || count > MAX_PARTS || no < 0 || no >= count) {
            throw new GgufFormatException("bad GGUF file " + file.path() + ": split.no " + no + " of split.count " + count);
        }
        if (no != 0) {
            Matcher m = match(file.path().getFileName().toString());
            String first = m != null ? partName(m.group(1), 1, (int) count) : "the part with split.no 0";
            throw new MemwallException(file.path() + " is part " + (no + 1) + " of " + count + " of a split model; open its first part, " + first);
        }
        return (int) count;
    }

    /** The paths of all parts, beside the first part and named as gguf-split names them. */
    static List<Path> partPaths(Path first, int count) {
        Matcher m = match(first.getFileName().toString());
        if (m == null || Integer.parseInt(m.group(2)) != 1 || Integer.parseInt(m.group(3)) != count) {
            throw new MemwallException(first + " is the first of " + count + " parts of a split model, but its name is not "
                    + partName("NAME", 1, count) + ", so its other parts cannot be found");
        }
        List<Path> paths = new ArrayList<>();
        for (int no = 1; no <= count; no++) {
            paths.add(first.resolveSibling(partName(m.group(1), no, count)));
        }
        return paths;
    }

    static GgufFile openOtherPart(Path path, int no, int count) {
        if (!Files.exists(path)) {
            throw new MemwallException("split model part " + path.getFileName() + " is missing from " + path.getParent());
        }
        GgufFile part = GgufFile.openPart(path);
        GgufMetadata md = part.metadata();
        if (md.getLong(NO, -1) != no || md.getLong(COUNT, -1) != count) {
            part.close();
            throw new GgufFormatException("bad GGUF file " + path + ": expected split part " + (no + 1) + " of " + count
                    + ", found split.no " + md.getLong(NO, -1) + " of split.count " + md.getLong(COUNT, -1));
        }
        return part;
    }

    static void checkTensorCount(GgufFile first, int found) {
        long expected = first.metadata().getLong(TENSORS_COUNT, found);
        if (expected != found) {
            throw new GgufFormatException("bad split model " + first.path() + ": split.tensors.count is " + expected + " but the parts hold " + found + " tensors");
        }
    }
}
