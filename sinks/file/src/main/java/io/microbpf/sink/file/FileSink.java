package io.microbpf.sink.file;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectWriter;
import io.microbpf.api.Event;
import io.microbpf.api.EventSink;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.LongSupplier;
import java.util.zip.GZIPOutputStream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes events as JSON Lines (one Jackson-serialised object per line) to {@code <prefix>.jsonl} in a
 * directory, rotating by size and by age into {@code <prefix>-<time>.jsonl[.gz]} and keeping at most
 * {@code maxFiles} rotated files.
 *
 * <p>Whole lines only, even when the process is killed with SIGKILL: a batch is serialised into memory,
 * laid out so that no line crosses a page boundary of the file (the line before one that would is padded
 * with spaces before its newline, which leaves the same JSON object), and written with one
 * {@code pwrite(2)} per page; Linux copies a write that lies inside one page whole or not at all, even
 * when a fatal signal arrives (see {@link PageLayout} for the kernel code this relies on and its limits).
 * The padding costs what is left at the end of each page (18.5 % more bytes for 691-byte tcp.flow lines,
 * 3.9 % for 329-byte latency.layer lines), the writes one system call per page (both measured in
 * docs/PERFORMANCE.md). A line longer than a
 * page is the exception: it is written page by page, counted ({@link #longLines()}, logged), and a kill in
 * its middle can leave it cut; when the sink opens a file that ends in a partial line (that case, a crash
 * of the machine mid-write, a disk that filled up under another writer), it cuts the partial line off
 * before appending. If a write fails (full disk) the file is truncated back to where the batch began.
 *
 * <p>Readers: a line may end with spaces before its newline; a reader that follows the file while it
 * grows ({@code tail -f}) can see a line of spaces when a pad rewrites the newline of a line it has
 * already read (every JSON parser skips whitespace; the file at rest never holds such a line).
 *
 * <p>Failures (a directory it cannot create or write, a full disk) make {@link #problem()} say what
 * is wrong in one line, and the batch is thrown back to the dispatcher (counted as failed); the next
 * batch tries again, so the sink recovers by itself once space or permissions return.
 *
 * <p>Owner of the open file channel; {@link #close()} fsyncs (unless {@code fsync=never}) and closes it.
 * Called from one thread at a time (the dispatcher's thread for this sink, and the component's timer).
 */
public final class FileSink implements EventSink, AutoCloseable {
    /** Settings; {@code types} empty means every type; 0 disables a rotation trigger or the file limit. */
    public record Settings(Path directory, String prefix, long rotateMaxBytes, long rotateIntervalMs, int maxFiles,
            boolean gzip, String fsync, long fsyncIntervalMs, Set<String> types) {}

    private static final Logger LOG = LoggerFactory.getLogger(FileSink.class);
    private static final DateTimeFormatter STAMP = DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss.SSS").withZone(ZoneId.systemDefault());

    private final ObjectWriter writer;
    private final LongSupplier clockMs;
    private final Buffer buffer = new Buffer();
    private int[] lineEnds = new int[1024];
    private final PageLayout layout;
    private final boolean pad;
    private final int maxPagesPerWrite;
    /* counters: written under the sink's lock, read without it (counters() must not wait for a write) */
    private volatile long paddingBytes;
    private volatile long longLines;
    /** Tests wrap the file's writer here to make a write fail part-way. */
    java.util.function.UnaryOperator<PageLayout.PositionalWriter> writeFilter = w -> w;
    private volatile Settings settings;
    private FileChannel channel;
    private Path current;
    private long sizeBytes;
    private long openedAtMs;
    private long lastFsyncMs;
    private boolean dirty;
    private volatile String problem;
    private volatile long rotations;

    public FileSink(Settings settings) {
        this(settings, System::currentTimeMillis);
    }

    FileSink(Settings settings, LongSupplier clockMs) {
        this(settings, clockMs, PageLayout.systemPageBytes(), true, 1);
    }

    /**
     * For tests and the benchmark: {@code pad} false and {@code maxPagesPerWrite} = Integer.MAX_VALUE is
     * the earlier layout (lines as they come, one write per batch), which a SIGKILL can cut mid-line.
     */
    FileSink(Settings settings, LongSupplier clockMs, int pageBytes, boolean pad, int maxPagesPerWrite) {
        this.settings = settings;
        this.clockMs = clockMs;
        this.layout = new PageLayout(pageBytes);
        this.pad = pad;
        this.maxPagesPerWrite = maxPagesPerWrite;
        this.writer = new ObjectMapper().disable(JsonGenerator.Feature.AUTO_CLOSE_TARGET).writer();
    }

    public Settings settings() {
        return settings;
    }

    /** New settings take effect from the next batch: the current file is closed (not rotated). */
    public synchronized void setSettings(Settings s) {
        closeChannel();
        this.settings = s;
    }

    @Override
    public String name() {
        return "file";
    }

    @Override
    public boolean accepts(String eventType) {
        Set<String> types = settings.types();
        return types.isEmpty() || types.contains(eventType);
    }

    @Override
    public String problem() {
        return problem;
    }

    /** The file being written now. */
    public Path currentFile() {
        Settings s = settings;
        return s.directory().resolve(s.prefix() + ".jsonl");
    }

    public long rotations() {
        return rotations;
    }

    /** Spaces written to keep lines inside pages, since this sink was created. */
    public long paddingBytes() {
        return paddingBytes;
    }

    /** Lines longer than a page written since this sink was created (not atomic under SIGKILL). */
    public long longLines() {
        return longLines;
    }

    /**
     * For {@code sink-list}: {@code longLines} (lines longer than a page, which a SIGKILL can cut),
     * {@code rotations}, {@code paddingBytes}; since this sink was created. Does not wait for a write.
     */
    @Override
    public Map<String, Long> counters() {
        Map<String, Long> c = new LinkedHashMap<>();
        c.put("longLines", longLines);
        c.put("rotations", rotations);
        c.put("paddingBytes", paddingBytes);
        return c;
    }

    /** The page size the layout uses (the kernel's, from /proc/self/auxv). */
    public int pageBytes() {
        return layout.pageBytes;
    }

    @Override
    public synchronized void deliver(List<Event> batch) throws IOException {
        buffer.reset();
        int lines = 0;
        for (Event e : batch) {
            if (accepts(e.type())) {
                writer.writeValue(buffer, e);
                buffer.write('\n');
                if (lines == lineEnds.length) {
                    lineEnds = java.util.Arrays.copyOf(lineEnds, lines * 2);
                }
                lineEnds[lines++] = buffer.size();
            }
        }
        if (lines == 0) {
            return;
        }
        try {
            ensureOpen();
            long now = clockMs.getAsLong();
            layout.plan(sizeBytes, buffer.bytes(), lineEnds, lines, pad);
            if (sizeBytes > 0 && (tooBig(layout.endPosition()) || tooOld(now))) {
                rotate(now);
                ensureOpen();
                layout.plan(sizeBytes, buffer.bytes(), lineEnds, lines, pad);
            }
            writeWhole();
            if ("batch".equals(settings.fsync()) || "interval".equals(settings.fsync()) && now - lastFsyncMs >= settings.fsyncIntervalMs()) {
                fsync(now);
            }
            recovered();
        } catch (IOException e) {
            fail(e);
            throw new IOException(problem, e);
        }
    }

    /** Opens the file now (instead of at the first batch) so that a bad directory is reported at once. */
    public synchronized void open() {
        try {
            ensureOpen();
            recovered();
        } catch (IOException e) {
            fail(e);
        }
    }

    /** Timer work: rotation by age when no batch arrives, and the interval fsync. */
    public synchronized void tick() {
        if (channel == null) {
            return;
        }
        long now = clockMs.getAsLong();
        try {
            if (sizeBytes > 0 && tooOld(now)) {
                rotate(now);
            } else if (dirty && "interval".equals(settings.fsync()) && now - lastFsyncMs >= settings.fsyncIntervalMs()) {
                fsync(now);
            }
        } catch (IOException e) {
            fail(e);
        }
    }

    private boolean tooBig(long newSizeBytes) {
        long max = settings.rotateMaxBytes();
        return max > 0 && newSizeBytes > max;
    }

    private boolean tooOld(long now) {
        long max = settings.rotateIntervalMs();
        return max > 0 && now - openedAtMs >= max;
    }

    private void ensureOpen() throws IOException {
        if (channel != null) {
            return;
        }
        Settings s = settings;
        Path dir = s.directory();
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new IOException("cannot create directory " + dir + " (" + reason(e) + ")", e);
        }
        if (!Files.isDirectory(dir) || !Files.isWritable(dir)) {
            throw new IOException("cannot write to directory " + dir + " (" + (Files.isDirectory(dir) ? "permission denied" : "not a directory") + ")");
        }
        Path file = currentFile();
        FileChannel ch;
        try {
            ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.READ);
        } catch (IOException e) {
            throw new IOException("cannot open " + file + " (" + reason(e) + ")", e);
        }
        long size = ch.size();
        long whole = wholeLinesLength(ch, size);
        if (whole < size) {
            LOG.warn("{} ended in a partial line of {} bytes (an earlier writer stopped mid-line); cut it off before appending",
                    file, size - whole);
            ch.truncate(whole);
        }
        ch.position(whole);
        channel = ch;
        current = file;
        sizeBytes = whole;
        openedAtMs = clockMs.getAsLong();
        lastFsyncMs = openedAtMs;
    }

    /** Length of the prefix of the file that ends with a newline (0 if it has none). */
    static long wholeLinesLength(FileChannel ch, long size) throws IOException {
        ByteBuffer one = ByteBuffer.allocate(8192);
        long end = size;
        while (end > 0) {
            long start = Math.max(0, end - one.capacity());
            one.clear().limit((int) (end - start));
            while (one.hasRemaining()) {
                if (ch.read(one, start + one.position()) < 0) {
                    break;
                }
            }
            for (int i = one.position() - 1; i >= 0; i--) {
                if (one.get(i) == '\n') {
                    return start + i + 1;
                }
            }
            end = start;
        }
        return 0;
    }

    private void writeWhole() throws IOException {
        long before = sizeBytes;
        try {
            layout.write(writeFilter.apply(channel::write), maxPagesPerWrite);
        } catch (IOException e) {
            try {
                channel.truncate(before); // no partial line stays behind
                if (layout.position() < before) { // the pad had rewritten the last newline
                    channel.write(ByteBuffer.wrap(new byte[] {'\n'}), before - 1);
                }
            } catch (IOException again) {
                closeChannel(); // the next open cuts what is left of the batch
            }
            throw new IOException(isDiskFull(e) ? "disk full writing " + current + " (" + reason(e) + ")"
                    : "cannot write " + current + " (" + reason(e) + ")", e);
        }
        sizeBytes = layout.endPosition();
        paddingBytes += layout.paddingBytes();
        if (layout.longLines() > 0) {
            if (longLines == 0) {
                LOG.warn("file sink: a line longer than a page ({} bytes) was written to {} page by page; a SIGKILL in its middle "
                        + "can leave it cut (cut off at the next open); counted in longLines()", layout.pageBytes, current);
            }
            longLines += layout.longLines();
        }
        dirty = true;
    }

    private void fsync(long now) throws IOException {
        if (channel != null && dirty) {
            channel.force(false);
            dirty = false;
        }
        lastFsyncMs = now;
    }

    private void rotate(long now) throws IOException {
        if (!"never".equals(settings.fsync())) {
            fsync(now);
        }
        channel.close();
        channel = null;
        Settings s = settings;
        Path rotated = uniqueRotatedName(s, now);
        Files.move(current, rotated, StandardCopyOption.ATOMIC_MOVE);
        if (s.gzip()) {
            gzip(rotated);
        }
        rotations++;
        prune(s);
    }

    private static Path uniqueRotatedName(Settings s, long now) {
        String base = s.prefix() + "-" + STAMP.format(Instant.ofEpochMilli(now));
        Path p = s.directory().resolve(base + ".jsonl");
        for (int n = 1; Files.exists(p) || Files.exists(p.resolveSibling(p.getFileName() + ".gz")); n++) {
            p = s.directory().resolve(base + "-" + n + ".jsonl");
        }
        return p;
    }

    private static void gzip(Path file) throws IOException {
        Path tmp = file.resolveSibling(file.getFileName() + ".gz.tmp");
        try (InputStream in = Files.newInputStream(file);
             OutputStream out = new GZIPOutputStream(Files.newOutputStream(tmp), 65536)) {
            in.transferTo(out);
        } catch (IOException e) {
            Files.deleteIfExists(tmp);
            throw new IOException("cannot gzip " + file + " (" + reason(e) + "); kept it uncompressed", e);
        }
        Files.move(tmp, file.resolveSibling(file.getFileName() + ".gz"), StandardCopyOption.ATOMIC_MOVE);
        Files.delete(file);
    }

    /**
     * Rotated files of this prefix, oldest first: by time stamp, then by the counter that a second
     * rotation in the same millisecond appends ({@code -1}, {@code -2}, ...; plain name order would put
     * {@code ...SSS-1.jsonl} before {@code ...SSS.jsonl}).
     */
    public static List<Path> rotatedFiles(Path directory, String prefix) throws IOException {
        List<Path> out = new ArrayList<>();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(directory, prefix + "-*.jsonl{,.gz}")) {
            ds.forEach(out::add);
        }
        int stampChars = "yyyyMMdd-HHmmss.SSS".length();
        java.util.function.Function<Path, String> rest = p -> {
            String n = p.getFileName().toString();
            n = n.endsWith(".gz") ? n.substring(0, n.length() - 3) : n;
            return n.substring(prefix.length() + 1, n.length() - ".jsonl".length());
        };
        out.sort(java.util.Comparator.<Path, String>comparing(p -> {
            String r = rest.apply(p);
            return r.length() > stampChars ? r.substring(0, stampChars) : r;
        }).thenComparingLong(p -> {
            String r = rest.apply(p);
            try {
                return r.length() > stampChars + 1 ? Long.parseLong(r.substring(stampChars + 1)) : 0;
            } catch (NumberFormatException e) {
                return Long.MAX_VALUE;
            }
        }).thenComparing(Path::toString));
        return out;
    }

    private static void prune(Settings s) throws IOException {
        if (s.maxFiles() <= 0) {
            return;
        }
        List<Path> rotated = rotatedFiles(s.directory(), s.prefix());
        for (int i = 0; i < rotated.size() - s.maxFiles(); i++) {
            Files.deleteIfExists(rotated.get(i));
        }
    }

    private void fail(IOException e) {
        String message = e.getMessage();
        if (!message.equals(problem)) {
            LOG.error("file sink: {}; its events are counted as failed until this is fixed (other sinks and probes are not affected)",
                    message);
        }
        problem = message;
    }

    private void recovered() {
        if (problem != null) {
            LOG.info("file sink: writing {} again", current);
            problem = null;
        }
    }

    private static boolean isDiskFull(IOException e) {
        String m = String.valueOf(e.getMessage());
        return m.contains("No space left") || m.contains("Disk quota exceeded");
    }

    private static String reason(IOException e) {
        String m = e.getMessage();
        String cls = e.getClass().getSimpleName();
        if (e instanceof java.nio.file.AccessDeniedException) {
            return "permission denied";
        }
        if (e instanceof java.nio.file.FileSystemException fse && fse.getReason() != null) {
            return fse.getReason();
        }
        return m == null ? cls : m;
    }

    private void closeChannel() {
        if (channel == null) {
            return;
        }
        try {
            if (!"never".equals(settings.fsync()) && dirty) {
                channel.force(false);
            }
            channel.close();
        } catch (IOException e) {
            LOG.warn("file sink: closing {}: {}", current, e.toString());
        }
        channel = null;
        dirty = false;
    }

    @Override
    public synchronized void close() {
        closeChannel();
    }

    /** A ByteArrayOutputStream whose array can be written without a copy. */
    private static final class Buffer extends ByteArrayOutputStream {
        Buffer() {
            super(1 << 16);
        }

        byte[] bytes() {
            return buf;
        }
    }
}
