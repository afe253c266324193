package org.memwall.model;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import java.util.zip.CRC32;
import org.memwall.AtomicFile;
import org.memwall.gguf.GgufFile;
import org.memwall.quant.Interleaved;
import org.memwall.tensor.Parallel;
import org.memwall.tensor.Tensor;

/**
 * The CPU's row-interleaved copies of a model's matrices kept in a file, so that the next load maps them instead of
 * repacking: a load is then a mapping of pages the system usually still holds (a whole load 0.25–0.5 s per GB of model
 * on this project's virtual machines) rather than repacking into fresh memory (1–2 s per GB there, most of it the
 * first touch of that memory). Opt-in ({@code --repack-cache}): the file is about as large as the model.
 *
 * <p>The file: a header (magic, this format's version, {@link Interleaved#layout}, the model's size and modification
 * time, one entry per matrix: name, type, shape, offset, bytes), then each copy at a 4 KiB-aligned offset. A file
 * whose header does not match the model and this build in every field is not used and is written again; it is
 * written to a temporary name and renamed, so a reader never sees half of one.
 */
public final class RepackCache {
    private static final byte[] MAGIC = "MWREPACK".getBytes(StandardCharsets.US_ASCII);
    private static final int VERSION = 1;
    private static final int PAGE = 4096;
    private static final String SUFFIX = ".memwall-repacked";

    private final Path file;
    private final Consumer<String> notes;

    private RepackCache(Path file, Consumer<String> notes) {
        this.file = file;
        this.notes = notes;
    }

    /** The cache of {@code model} next to it ({@code MODEL.memwall-repacked}); notices (written, not usable) to {@code notes}. */
    public static RepackCache beside(Path model, Consumer<String> notes) {
        Path abs = model.toAbsolutePath();
        return new RepackCache(abs.resolveSibling(abs.getFileName() + SUFFIX), notes);
    }

    /** The cache of {@code model} in {@code directory}, named after the model's file and a hash of its path. */
    public static RepackCache in(Path directory, Path model, Consumer<String> notes) {
        Path abs = model.toAbsolutePath().normalize();
        CRC32 crc = new CRC32();
        crc.update(abs.toString().getBytes(StandardCharsets.UTF_8));
        return new RepackCache(directory.resolve(String.format("%s-%08x%s", abs.getFileName(), crc.getValue(), SUFFIX)), notes);
    }

    /** The cache file. */
    public Path file() {
        return file;
    }

    /**
     * Gives every matrix of {@code weights} its interleaved copy: mapped from the cache when it holds this model's
     * copies for this build, else repacked on {@code pool} and then written to the cache (a failure to write is a
     * notice, not an error).
     */
    void interleave(GgufFile model, Weights weights, Parallel pool) {
        List<Tensor> matrices = copied(weights);
        if (matrices.isEmpty()) {
            return; // nothing this machine copies (its formats are kept as stored, or vectors too narrow)
        }
        Source source = Source.of(model);
        String refused = null;
        if (Files.exists(file)) {
            try {
                refused = restore(matrices, source);
                if (refused == null) {
                    return;
                }
            } catch (IOException | RuntimeException e) {
                refused = "unreadable (" + e.getMessage() + ")";
            }
        }
        weights.interleave(pool);
        try {
            store(matrices, source);
            notes.accept("memwall: repacked weights " + (refused == null ? "saved" : "saved again (the old file was " + refused + ")") + " to " + file);
        } catch (IOException | RuntimeException e) {
            notes.accept("memwall: repacked weights not saved to " + file + ": " + e.getMessage());
        }
    }

    /** The matrices that get a copy on this machine. */
    private static List<Tensor> copied(Weights weights) {
        List<Tensor> out = new ArrayList<>();
        for (Tensor t : weights.multiplied()) {
            if (Interleaved.copies(t.type())) {
                out.add(t);
            }
        }
        return out;
    }

    /** What identifies the model file: its size (all parts' of a split model) and modification time (the first part's). */
    private record Source(long size, long modified) {
        static Source of(GgufFile model) {
            try {
                return new Source(model.fileSize(), Files.getLastModifiedTime(model.path()).toMillis());
            } catch (IOException e) {
                return new Source(model.fileSize(), -1);
            }
        }
    }

    /** Maps the copies and hands them to the matrices; null when done, else why the file is not used (nothing handed). */
    private String restore(List<Tensor> matrices, Source source) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            ByteBuffer head = ByteBuffer.allocate(Math.toIntExact(Math.min(ch.size(), 64))).order(ByteOrder.LITTLE_ENDIAN);
            read(ch, head, 0);
            head.flip();
            byte[] magic = new byte[MAGIC.length];
            if (head.remaining() < 44 || !java.util.Arrays.equals(get(head, magic), MAGIC)) {
                return "not a memwall repack file";
            }
            if (head.getInt() != VERSION) {
                return "of another version";
            }
            int headerBytes = head.getInt();
            if (head.getLong() != Interleaved.layout()) {
                return "made by a build or machine with other layouts";
            }
            if (head.getLong() != source.size() || head.getLong() != source.modified()) {
                return "made from another version of the model file";
            }
            int count = head.getInt();
            if (count != matrices.size() || headerBytes < 44 || headerBytes > Math.min(ch.size(), 64L << 20)) {
                return "for other matrices";
            }
            ByteBuffer h = ByteBuffer.allocate(headerBytes).order(ByteOrder.LITTLE_ENDIAN);
            read(ch, h, 0);
            h.flip().position(44);
            long[] offsets = new long[count];
            long[] sizes = new long[count];
            for (int i = 0; i < count; i++) {
                Tensor t = matrices.get(i);
                int length = h.getInt();
                if (length < 0 || length > h.remaining()) {
                    return "truncated or damaged";
                }
                byte[] name = new byte[length];
                if (!new String(get(h, name), StandardCharsets.UTF_8).equals(t.name()) || h.getInt() != t.type().id
                        || h.getLong() != t.rowCount() || h.getLong() != t.rowLength()) {
                    return "for other matrices";
                }
                offsets[i] = h.getLong();
                sizes[i] = h.getLong();
                if (offsets[i] < headerBytes || offsets[i] % PAGE != 0 || sizes[i] < 0 || offsets[i] + sizes[i] > ch.size()) {
                    return "truncated or damaged";
                }
            }
            MemorySegment mapping = ch.map(FileChannel.MapMode.READ_ONLY, 0, ch.size(), Arena.ofAuto());
            MemorySegment mapped = plain(mapping);
            List<Interleaved> copies = new ArrayList<>();
            for (int i = 0; i < count; i++) {
                Tensor t = matrices.get(i);
                try {
                    copies.add(Interleaved.over(t.type(), t.rowCount(), t.rowLength(), mapped.asSlice(offsets[i], sizes[i])));
                } catch (IllegalArgumentException e) {
                    return "for other matrices (" + e.getMessage() + ")";
                }
            }
            for (int i = 0; i < count; i++) {
                matrices.get(i).interleaved(copies.get(i));
            }
            mapping.load(); // the pages in now, not one fault at a time in the first prompt
            return null;
        }
    }

    /**
     * The mapping as a plain native segment over the same pages (kept mapped while it is reachable): the kernels then
     * see one segment class, the one of every other copy and buffer. Read through the mapped segment's own class, whose
     * type joined theirs at every load in the kernels, a 1B Q4_0 model decoded 20% and prefilled 35% slower. Where
     * native access is denied, the mapped segment itself.
     */
    private static MemorySegment plain(MemorySegment mapped) {
        try {
            return MemorySegment.ofAddress(mapped.address()).reinterpret(mapped.byteSize(), Arena.ofAuto(),
                    ignored -> java.lang.ref.Reference.reachabilityFence(mapped)).asReadOnly();
        } catch (IllegalCallerException e) {
            return mapped;
        }
    }

    private void store(List<Tensor> matrices, Source source) throws IOException {
        ByteBuffer h = ByteBuffer.allocate(header(matrices)).order(ByteOrder.LITTLE_ENDIAN);
        h.put(MAGIC).putInt(VERSION).putInt(h.capacity()).putLong(Interleaved.layout()).putLong(source.size()).putLong(source.modified())
                .putInt(matrices.size());
        long offset = h.capacity();
        for (Tensor t : matrices) {
            byte[] name = t.name().getBytes(StandardCharsets.UTF_8);
            long bytes = t.interleaved().byteSize();
            h.putInt(name.length).put(name).putInt(t.type().id).putLong(t.rowCount()).putLong(t.rowLength()).putLong(offset).putLong(bytes);
            offset = align(offset + bytes);
        }
        Path dir = file.toAbsolutePath().getParent();
        Files.createDirectories(dir);
        Path tmp = Files.createTempFile(dir, file.getFileName().toString(), ".tmp");
        try {
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
                h.flip();
                write(ch, h, 0);
                long at = h.capacity();
                for (Tensor t : matrices) {
                    MemorySegment data = t.interleaved().data();
                    write(ch, data.asByteBuffer(), at);
                    at = align(at + data.byteSize());
                }
                ch.truncate(at);
            }
            AtomicFile.moveInto(tmp, file);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    /** Header bytes for these matrices, a whole number of pages. */
    private static int header(List<Tensor> matrices) {
        long bytes = 44;
        for (Tensor t : matrices) {
            bytes += 4 + t.name().getBytes(StandardCharsets.UTF_8).length + 4 + 8 * 4;
        }
        return Math.toIntExact(align(bytes));
    }

    private static long align(long offset) {
        return (offset + PAGE - 1) / PAGE * PAGE;
    }

    private static byte[] get(ByteBuffer b, byte[] into) {
        if (b.remaining() < into.length) {
            throw new IllegalStateException("the header ends early");
        }
        b.get(into);
        return into;
    }

    private static void read(FileChannel ch, ByteBuffer b, long at) throws IOException {
        while (b.hasRemaining()) {
            int n = ch.read(b, at);
            if (n < 0) {
                return;
            }
            at += n;
        }
    }

    private static void write(FileChannel ch, ByteBuffer b, long at) throws IOException {
        while (b.hasRemaining()) {
            at += ch.write(b, at);
        }
    }
}
