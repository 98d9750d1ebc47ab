package io.microbpf.sink.file;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * Places whole JSON lines into file pages so that a writer killed with SIGKILL never leaves part of a
 * line behind, and writes them with one {@code pwrite(2)} per page.
 *
 * <p><b>What the kernel guarantees, and what this relies on.</b> A buffered write goes through
 * {@code generic_perform_write()} (mm/filemap.c; ext4's {@code ext4_buffered_write_iter}, tmpfs's
 * {@code shmem_file_write_iter}) or {@code iomap_write_iter()} (fs/iomap/buffered-io.c; XFS and other
 * iomap file systems). Both copy the user buffer in chunks, one page-cache folio at a time: a chunk is
 * {@code min(chunk - (pos & (chunk - 1)), remaining)} with {@code chunk = mapping_max_folio_size()} and is
 * cut again at the end of the folio it lands in. They test {@code fatal_signal_pending(current)} only
 * <i>before</i> a chunk (generic_perform_write in its loop, iomap in {@code iomap_write_begin()}) and then
 * return the bytes already copied. A folio is at least one page and naturally aligned (large folios make
 * chunks bigger, never smaller than a page), so a SIGKILL can stop a write only at a page boundary of the
 * file, and a write that lies inside one page is one chunk: copied whole or not at all. (Checked against
 * the kernel source: generic_perform_write in its 6.17+ form, whose write_begin takes the kiocb;
 * iomap_write_iter/iomap_write_begin with {@code mapping_max_folio_size()} chunks, 6.10+; the machine
 * this was tested on runs 6.18 with ext4 and tmpfs.)
 *
 * <p>iomap also ends a chunk where the file system's block mapping (an extent) ends, and asks for the
 * next extent before the next chunk, so there a kill can stop a write at a <i>block</i> boundary: on a
 * file system with blocks smaller than a page on the iomap path (XFS made with 1 KiB blocks) a line
 * could be cut inside a page. With blocks of a page (the default: 4 KiB on ext4 and XFS) this is the
 * same boundary; ext4's buffered path (generic_perform_write) and tmpfs do not split a page by block.
 *
 * <p>The other exception is a <i>short copy</i>: {@code copy_folio_from_iter_atomic()} runs with page faults
 * disabled and stops early if the source buffer is not resident. ext4 ({@code block_write_end}) and iomap
 * reject a short copy into a folio that is not up to date and retry it whole, but tmpfs
 * ({@code shmem_write_end}) and an up-to-date folio keep the short part, and the next loop turn may then
 * stop on the signal. The source here is a buffer the JVM has just filled (the JDK copies a heap buffer
 * into a temporary direct buffer right before the call), so it is resident; it could only be paged out
 * between that copy and the write on a machine with swap under heavy memory pressure.
 *
 * <p><b>The layout.</b> Lines are appended in order; a line that does not fit in the rest of the current
 * page moves to the start of the next page, and the line before it is padded with spaces before its
 * newline ({@code {...}    \n} is still the same JSON object). If that line is already in the file (it
 * ended an earlier batch), the pad rewrites its newline: one write from its last byte to the end of the
 * page, still inside one page. So no line of up to one page crosses a page boundary, and the writer cuts
 * the bytes at page boundaries only: every write holds whole lines. A line longer than a page cannot be
 * made atomic this way; it is written page by page without padding, counted ({@link #longLines}), and a
 * kill in its middle leaves it cut (the sink cuts an unterminated tail when it opens the file again).
 *
 * <p>Not thread-safe; owned by one {@link FileSink}.
 */
final class PageLayout {
    /** Writes bytes at a file position (FileChannel::write); returns how many it wrote. */
    interface PositionalWriter {
        int write(ByteBuffer src, long position) throws IOException;
    }

    private static final int AT_PAGESZ = 6;
    private static volatile int systemPageBytes;

    final int pageBytes;
    private byte[] out = new byte[1 << 16];
    private byte[] src = out; // what write() writes: out, or the caller's bytes when not padding
    private int length;
    private long position;
    private long paddingBytes;
    private int longLines;

    PageLayout(int pageBytes) {
        if (pageBytes < 64) {
            throw new IllegalArgumentException("page size " + pageBytes);
        }
        this.pageBytes = pageBytes;
    }

    /**
     * The kernel's page size (AT_PAGESZ from /proc/self/auxv, the value getpagesize() returns), or 4096 if
     * it cannot be read.
     */
    static int systemPageBytes() {
        int p = systemPageBytes;
        if (p == 0) {
            p = readAuxvPageBytes(Path.of("/proc/self/auxv"));
            systemPageBytes = p;
        }
        return p;
    }

    static int readAuxvPageBytes(Path auxv) {
        try {
            ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(auxv)).order(ByteOrder.nativeOrder());
            boolean wide = !"32".equals(System.getProperty("sun.arch.data.model"));
            int entry = wide ? 16 : 8;
            while (b.remaining() >= entry) {
                long type = wide ? b.getLong() : b.getInt() & 0xffffffffL;
                long value = wide ? b.getLong() : b.getInt() & 0xffffffffL;
                if (type == 0) {
                    break;
                }
                if (type == AT_PAGESZ && value >= 4096 && value <= (1 << 20) && Long.bitCount(value) == 1) {
                    return (int) value;
                }
            }
        } catch (IOException | RuntimeException e) {
            // not Linux, or /proc not mounted: the common page size
        }
        return 4096;
    }

    /**
     * Lays out lines for appending to a file of {@code fileBytes} bytes that is empty or ends with a
     * newline. Line {@code i} is {@code raw[ends[i-1] .. ends[i])} (with {@code ends[-1] = 0}), each ending
     * with its newline. With {@code pad} false the lines are laid out as they are (no padding).
     */
    void plan(long fileBytes, byte[] raw, int[] ends, int lines, boolean pad) {
        length = 0;
        position = fileBytes;
        paddingBytes = 0;
        longLines = 0;
        if (!pad) { // the lines as they are: no copy
            src = raw;
            for (int i = 0, start = 0; i < lines; start = ends[i++]) {
                if (ends[i] - start > pageBytes) {
                    longLines++;
                }
            }
            length = lines == 0 ? 0 : ends[lines - 1];
            return;
        }
        src = out;
        long pos = fileBytes; // file offset of the next byte placed
        int start = 0;
        for (int i = 0; i < lines; i++) {
            int end = ends[i];
            int lineBytes = end - start;
            int inPage = (int) Math.floorMod(pos, (long) pageBytes);
            int room = pageBytes - inPage;
            if (lineBytes > pageBytes) {
                longLines++;
            } else if (inPage != 0 && lineBytes > room) {
                // the newline of the line before sits at pos - 1, in this same page (inPage > 0)
                if (length == 0) {
                    position = pos - 1; // that line is in the file: rewrite its newline as a space
                    ensure(1);
                    out[0] = ' ';
                    length = 1;
                } else {
                    out[length - 1] = ' ';
                }
                ensure(length + room);
                Arrays.fill(out, length, length + room - 1, (byte) ' ');
                out[length + room - 1] = '\n';
                length += room;
                pos += room;
                paddingBytes += room;
            }
            ensure(length + lineBytes);
            System.arraycopy(raw, start, out, length, lineBytes);
            length += lineBytes;
            pos += lineBytes;
            start = end;
        }
    }

    /**
     * Writes the planned bytes at their position, one call per page (with {@code maxPagesPerWrite} = 1):
     * the bytes are cut at page boundaries only, never elsewhere.
     */
    void write(PositionalWriter writer, int maxPagesPerWrite) throws IOException {
        long pos = position;
        int off = 0;
        while (off < length) {
            long pageStart = pos - Math.floorMod(pos, (long) pageBytes);
            long limit = pageStart + (long) pageBytes * maxPagesPerWrite;
            int chunk = (int) Math.min(length - off, limit - pos);
            ByteBuffer bb = ByteBuffer.wrap(src, off, chunk);
            while (bb.hasRemaining()) {
                writer.write(bb, pos + (bb.position() - off));
            }
            off += chunk;
            pos += chunk;
        }
    }

    private void ensure(int capacity) {
        if (capacity > out.length) {
            out = Arrays.copyOf(out, Math.max(capacity, out.length * 2));
            src = out;
        }
    }

    /** File offset of the first planned byte: the file's size, or one less when the pad rewrites its last newline. */
    long position() {
        return position;
    }

    /** The file's size once the planned bytes are written. */
    long endPosition() {
        return position + length;
    }

    int length() {
        return length;
    }

    byte[] bytes() {
        return src;
    }

    /** Spaces added by the last plan (the file grows by the lines plus this). */
    long paddingBytes() {
        return paddingBytes;
    }

    /** Lines longer than a page in the last plan (written page by page, not atomic). */
    int longLines() {
        return longLines;
    }
}
