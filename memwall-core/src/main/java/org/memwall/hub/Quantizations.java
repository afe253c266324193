package org.memwall.hub;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.memwall.MemwallException;
import org.memwall.gguf.GgufSplit;

/**
 * Which GGUF files of a repository a reference names. Repositories publish one file (or one split
 * set) per quantization, the type in the file name ({@code Llama-3.2-1B-Instruct-Q4_K_M.gguf}); a tag
 * picks by that name, no tag picks Q4_K_M, llama.cpp's and Ollama's default, else the smallest.
 */
final class Quantizations {
    static final String DEFAULT = "Q4_K_M";
    private static final Pattern TYPE = Pattern.compile("(?i)(?<![a-z0-9])(I?Q\\d(?:_[a-z0-9]+)*|BF16|F16|F32|MXFP4(?:_MOE)?)(?![a-z0-9])");

    private Quantizations() {
    }

    /** One quantization: a file, or the parts of a split model in order. */
    record Choice(String tag, List<RepoFile> files) {
        long size() {
            return files.stream().mapToLong(RepoFile::size).sum();
        }

        RepoFile first() {
            return files.getFirst();
        }
    }

    /** The quantization type a file name carries (upper case), or null. */
    static String tagOf(String path) {
        String name = path.substring(path.lastIndexOf('/') + 1).replaceFirst("(-\\d{5}-of-\\d{5})?\\.gguf$", "");
        Matcher m = TYPE.matcher(name);
        String tag = null;
        while (m.find()) {
            tag = m.group(1).toUpperCase(Locale.ROOT);
        }
        return tag;
    }

    /** The GGUF models of a file list: single files and complete split sets (projectors for vision excluded). */
    static List<Choice> choices(String repo, List<RepoFile> files) {
        Map<String, RepoFile> byPath = new LinkedHashMap<>();
        for (RepoFile f : files) {
            String name = f.path().substring(f.path().lastIndexOf('/') + 1);
            if (name.endsWith(".gguf") && !name.toLowerCase(Locale.ROOT).contains("mmproj")) {
                byPath.put(f.path(), f);
            }
        }
        List<Choice> choices = new ArrayList<>();
        for (RepoFile f : byPath.values()) {
            String dir = f.path().substring(0, f.path().lastIndexOf('/') + 1);
            Matcher split = GgufSplit.match(f.path().substring(dir.length()));
            if (split == null) {
                choices.add(new Choice(tagOf(f.path()), List.of(f)));
            } else if (Integer.parseInt(split.group(2)) == 1) {
                int count = Integer.parseInt(split.group(3));
                List<RepoFile> parts = new ArrayList<>();
                for (int no = 1; no <= count; no++) {
                    String partPath = dir + GgufSplit.partName(split.group(1), no, count);
                    RepoFile part = byPath.get(partPath);
                    if (part == null) {
                        throw new MemwallException(repo + " lacks " + partPath + ", part " + no + " of the split model " + f.path());
                    }
                    parts.add(part);
                }
                choices.add(new Choice(tagOf(f.path()), parts));
            }
        }
        return choices;
    }

    /** The files {@code ref} names; {@code notes} hears which quantization was picked when the ref gave none. */
    static Choice select(HubRef ref, List<RepoFile> files, long memoryBytes, java.util.function.Consumer<String> notes) {
        List<Choice> choices = choices(ref.repo(), files);
        if (choices.isEmpty()) {
            throw new MemwallException(ref.repo() + " has no GGUF files; memwall runs GGUF models (look for a repository named ...-GGUF)");
        }
        if (ref.file() != null) {
            for (Choice c : choices) {
                if (c.files().stream().anyMatch(f -> f.path().equals(ref.file()))) {
                    return c;
                }
            }
            throw new MemwallException("no file " + ref.file() + " in " + ref.repo() + "; its GGUF files: " + list(choices, Choice::first));
        }
        if (ref.tag() != null) {
            return choices.stream().filter(c -> ref.tag().equalsIgnoreCase(c.tag())).min(Comparator.comparingLong(Choice::size))
                    .orElseThrow(() -> new MemwallException(ref.repo() + " has no " + ref.tag() + " file; it has " + tags(choices)));
        }
        var preferred = choices.stream().filter(c -> DEFAULT.equals(c.tag())).min(Comparator.comparingLong(Choice::size));
        if (preferred.isPresent()) {
            return preferred.get();
        }
        Choice smallest = choices.stream().min(Comparator.comparingLong(Choice::size)).orElseThrow();
        if (smallest.size() > memoryBytes) {
            throw new MemwallException(ref.repo() + " has no " + DEFAULT + " and its smallest file, " + smallest.first().path() + " (" + smallest.size()
                    + " bytes), exceeds this machine's memory (" + memoryBytes + " bytes)");
        }
        notes.accept(ref.repo() + " has no " + DEFAULT + "; picked " + (smallest.tag() != null ? smallest.tag() : smallest.first().path())
                + ", the smallest (" + smallest.size() + " bytes; choose with " + ref.repo() + ":TAG among " + tags(choices) + ")");
        return smallest;
    }

    private static String tags(List<Choice> choices) {
        return choices.stream().map(c -> c.tag() != null ? c.tag() : c.first().path()).distinct().collect(Collectors.joining(", "));
    }

    private static String list(List<Choice> choices, java.util.function.Function<Choice, RepoFile> pick) {
        return choices.stream().map(c -> pick.apply(c).path()).collect(Collectors.joining(", "));
    }
}
