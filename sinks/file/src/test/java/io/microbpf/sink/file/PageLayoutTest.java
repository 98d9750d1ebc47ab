package io.microbpf.sink.file;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The page layout against an in-memory file that records every write call. A SIGKILL can stop the
 * kernel between write calls (and, inside one call, only at page boundaries), so the file after every
 * prefix of the calls is a state a killed writer can leave: each such state must be whole JSON lines.
 */
class PageLayoutTest {
    static final ObjectMapper STRICT = new ObjectMapper().enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

    /**
     * A file in memory with pwrite semantics. After every call it checks the state a kill right then
     * would leave: if the file ends with a newline, the lines the call touched (from the start of the
     * line holding its first byte) must be whole JSON lines; otherwise the size is recorded as partial.
     */
    static final class MemoryFile implements PageLayout.PositionalWriter {
        private byte[] buf;
        int size;
        final List<long[]> calls = new ArrayList<>(); // {position, length}
        final List<Integer> partialStates = new ArrayList<>();

        MemoryFile(byte[] initial) {
            buf = Arrays.copyOf(initial, Math.max(16, initial.length));
            size = initial.length;
        }

        byte[] data() {
            return Arrays.copyOf(buf, size);
        }

        @Override
        public int write(ByteBuffer src, long position) throws IOException {
            int n = src.remaining();
            int end = (int) position + n;
            if (end > buf.length) {
                buf = Arrays.copyOf(buf, Math.max(end, buf.length * 2));
            }
            src.get(buf, (int) position, n);
            size = Math.max(size, end);
            calls.add(new long[] {position, n});
            if (buf[size - 1] != '\n') {
                partialStates.add(size);
            } else {
                int from = (int) position;
                while (from > 0 && buf[from - 1] != '\n') {
                    from--;
                }
                wholeLines(buf, from, size);
            }
            return n;
        }
    }

    /** A JSON line of exactly {@code bytes} bytes including its newline (at least 9). */
    static byte[] line(int bytes, char fill) {
        return ("{\"x\":\"" + String.valueOf(fill).repeat(bytes - 9) + "\"}\n").getBytes(StandardCharsets.US_ASCII);
    }

    /** Plans and writes one batch of lines onto the file; returns the layout. */
    static PageLayout append(MemoryFile file, int pageBytes, boolean pad, int maxPages, byte[]... lines) throws IOException {
        ByteArrayOutputStream raw = new ByteArrayOutputStream();
        int[] ends = new int[lines.length];
        for (int i = 0; i < lines.length; i++) {
            raw.write(lines[i]);
            ends[i] = raw.size();
        }
        PageLayout layout = new PageLayout(pageBytes);
        layout.plan(file.size, raw.toByteArray(), ends, lines.length, pad);
        layout.write(file, maxPages);
        assertEquals(layout.endPosition(), file.size);
        return layout;
    }

    /** The lines of a file state; fails unless every byte is in a complete, parsable JSON line. */
    static List<JsonNode> wholeLines(byte[] state) throws IOException {
        return wholeLines(state, 0, state.length);
    }

    static List<JsonNode> wholeLines(byte[] state, int from, int to) throws IOException {
        List<JsonNode> out = new ArrayList<>();
        assertTrue(to == 0 || state[to - 1] == '\n', "ends with a newline: " + tail(Arrays.copyOf(state, to)));
        int start = from;
        for (int i = from; i < to; i++) {
            if (state[i] == '\n') {
                String text = new String(state, start, i - start, StandardCharsets.UTF_8);
                assertFalse(text.isBlank(), "a line of only whitespace at " + start);
                JsonNode node = STRICT.readTree(text);
                assertTrue(node.isObject(), text);
                out.add(node);
                start = i + 1;
            }
        }
        return out;
    }

    static String tail(byte[] state) {
        return new String(state, Math.max(0, state.length - 40), Math.min(40, state.length), StandardCharsets.UTF_8);
    }

    static void assertEveryCallInsideOnePage(MemoryFile f, int pageBytes) {
        for (long[] c : f.calls) {
            assertEquals(c[0] / pageBytes, (c[0] + c[1] - 1) / pageBytes, "write at " + c[0] + " of " + c[1] + " bytes crosses a page");
        }
    }

    static void assertEveryStateWhole(MemoryFile f) {
        assertEquals(List.of(), f.partialStates, "file sizes after calls that left a partial line");
    }

    @Test
    void linesThatFitExactlyFillThePageWithoutPadding() throws IOException {
        MemoryFile f = new MemoryFile(new byte[0]);
        PageLayout l = append(f, 64, true, 1, line(32, 'a'), line(32, 'b'), line(20, 'c'));
        assertEquals(0, l.paddingBytes());
        assertEquals(List.of(0L, 64L), f.calls.stream().map(c -> c[0]).toList());
        assertEquals(List.of(64L, 20L), f.calls.stream().map(c -> c[1]).toList(), "one write per page, whole lines");
        assertEquals(3, wholeLines(f.data()).size());
        assertEveryStateWhole(f);
    }

    @Test
    void aLineOneByteTooLongMovesToTheNextPageAndTheLineBeforeIsPadded() throws IOException {
        MemoryFile f = new MemoryFile(new byte[0]);
        PageLayout l = append(f, 64, true, 1, line(32, 'a'), line(33, 'b'));
        assertEquals(32, l.paddingBytes());
        assertEquals(64 + 33, f.size);
        String first = new String(f.data(), 0, 64, StandardCharsets.US_ASCII);
        assertEquals(new String(line(32, 'a'), StandardCharsets.US_ASCII).strip() + " ".repeat(32) + "\n", first,
                "spaces before the newline; the next line starts on the page boundary");
        assertEquals(List.of(0L, 64L), f.calls.stream().map(c -> c[0]).toList());
        List<JsonNode> back = wholeLines(f.data());
        assertEquals("a".repeat(23), back.get(0).get("x").asText(), "the padded line is the same JSON object");
        assertEveryCallInsideOnePage(f, 64);
        assertEveryStateWhole(f);
    }

    @Test
    void aLineOfExactlyAPageFillsAnEmptyPageAndOneOfPageMinusOneLeavesOneByteThatThePadTakes() throws IOException {
        MemoryFile f = new MemoryFile(new byte[0]);
        PageLayout l = append(f, 64, true, 1, line(64, 'a'), line(63, 'b'), line(10, 'c'));
        assertEquals(1, l.paddingBytes(), "the 63-byte line leaves 1 byte: its newline moves there");
        assertEquals(0, l.longLines());
        assertEquals(List.of(0L, 64L, 128L), f.calls.stream().map(c -> c[0]).toList());
        assertEquals(' ', f.data()[64 + 62]);
        assertEquals('\n', f.data()[127]);
        assertEquals(3, wholeLines(f.data()).size());
        assertEveryCallInsideOnePage(f, 64);
        assertEveryStateWhole(f);
    }

    @Test
    void aLineOfExactlyAPageMidPageStartsOnTheNextBoundary() throws IOException {
        MemoryFile f = new MemoryFile(new byte[0]);
        PageLayout l = append(f, 64, true, 1, line(10, 'a'), line(64, 'b'));
        assertEquals(54, l.paddingBytes());
        assertEquals(128, f.size);
        assertEveryCallInsideOnePage(f, 64);
        assertEveryStateWhole(f);
    }

    @Test
    void appendingToAFileWhoseSizeIsNotPageAlignedRewritesTheLastNewlineInsideItsPage() throws IOException {
        byte[] existing = line(40, 'e');
        MemoryFile f = new MemoryFile(existing);
        PageLayout l = append(f, 64, true, 1, line(30, 'n'));
        assertEquals(39, l.position(), "the first write starts at the old last newline");
        assertEquals(24, l.paddingBytes());
        assertEquals(List.of(39L, 64L), f.calls.stream().map(c -> c[0]).toList());
        assertEquals(List.of(25L, 30L), f.calls.stream().map(c -> c[1]).toList());
        assertEquals(2, wholeLines(f.data()).size());
        assertEveryCallInsideOnePage(f, 64);
        assertEveryStateWhole(f); // after the first call the old line is padded to the page end, whole

        // a line that fits in the rest of the page is appended without touching the file
        MemoryFile g = new MemoryFile(existing);
        PageLayout m = append(g, 64, true, 1, line(24, 'n'));
        assertEquals(40, m.position());
        assertEquals(0, m.paddingBytes());
        assertEquals(64, g.size);
    }

    @Test
    void aLineLongerThanAPageIsWrittenPageByPageCountedAndOnlyItCanBeCut() throws IOException {
        MemoryFile f = new MemoryFile(line(20, 'e'));
        PageLayout l = append(f, 64, true, 1, line(10, 'a'), line(200, 'L'), line(20, 'b'));
        assertEquals(1, l.longLines());
        assertEquals(0, l.paddingBytes(), "a long line is not moved to a boundary: it cannot be atomic anyway");
        assertEveryCallInsideOnePage(f, 64);
        // calls [20,64) [64,128) [128,192) [192,250): the first three end inside the long line (30..230),
        // the last ends with line b (fits in the 26 bytes left in its page), whole
        assertEquals(List.of(64, 128, 192), f.partialStates, "only the long line (30..230) is cut, after its pages");
        assertEquals(4, wholeLines(f.data()).size());
    }

    @Test
    void theUnpaddedOneWriteLayoutCanBeCutMidLineAtAPageBoundary() throws IOException {
        // the control: what a kill could do to the earlier layout (the kernel stops between pages)
        MemoryFile f = new MemoryFile(new byte[0]);
        append(f, 64, false, Integer.MAX_VALUE, line(50, 'a'), line(50, 'b'), line(50, 'c'));
        assertEquals(1, f.calls.size(), "one write of 150 bytes");
        byte[] cut = Arrays.copyOf(f.data(), 64); // stopped after the first page
        assertTrue(cut[63] != '\n', "the page boundary falls inside line b");
    }

    @Test
    void randomBatchesOnEveryPageSizeKeepEveryLineInsideAPageAndEveryKillStateWhole() throws IOException {
        Random random = new Random(5);
        for (int pageBytes : new int[] {64, 100, 4096}) {
            for (int trial = 0; trial < (pageBytes < 4096 ? 30 : 8); trial++) {
                MemoryFile f = new MemoryFile(new byte[0]);
                long padding = 0;
                int lines = 0;
                for (int batch = 0; batch < 20; batch++) {
                    byte[][] b = new byte[1 + random.nextInt(pageBytes < 4096 ? 6 : 40)][];
                    for (int i = 0; i < b.length; i++) {
                        b[i] = line(9 + random.nextInt(pageBytes - 8), (char) ('a' + i % 26)); // 9 .. pageBytes
                    }
                    lines += b.length;
                    padding += append(f, pageBytes, true, 1, b).paddingBytes();
                }
                assertEveryCallInsideOnePage(f, pageBytes);
                assertEveryStateWhole(f);
                assertEquals(lines, wholeLines(f.data()).size());
                // every line lies inside one page of the file
                int start = 0;
                long spaces = 0;
                byte[] data = f.data();
                for (int i = 0; i < data.length; i++) {
                    if (data[i] == ' ') {
                        spaces++;
                    }
                    if (data[i] == '\n') {
                        assertEquals(start / pageBytes, i / pageBytes, "line at " + start + ".." + i + " crosses a page");
                        start = i + 1;
                    }
                }
                assertEquals(padding, spaces, "the spaces in the file are exactly the padding");
            }
        }
    }

    @Test
    void twoPagesPerWriteCutsOnlyAtPageBoundariesToo() throws IOException {
        MemoryFile f = new MemoryFile(line(20, 'e'));
        byte[][] b = new byte[40][];
        for (int i = 0; i < b.length; i++) {
            b[i] = line(9 + (i * 7) % 50, 'x');
        }
        append(f, 64, true, 2, b);
        for (long[] c : f.calls) {
            assertTrue(c[1] <= 128, "at most two pages");
            long end = c[0] + c[1];
            assertTrue(end % 64 == 0 || end == f.size, "a write ends on a page boundary or at the end");
        }
        assertEveryStateWhole(f);
    }

    @Test
    void thePageSizeComesFromTheKernel(@TempDir Path dir) throws Exception {
        String getconf = new String(new ProcessBuilder("getconf", "PAGESIZE").start().getInputStream().readAllBytes()).strip();
        assertEquals(Integer.parseInt(getconf), PageLayout.systemPageBytes());
        Path bad = dir.resolve("auxv");
        Files.write(bad, new byte[] {1, 2, 3});
        assertEquals(4096, PageLayout.readAuxvPageBytes(bad), "an unreadable auxv falls back to 4096");
        assertEquals(4096, PageLayout.readAuxvPageBytes(dir.resolve("missing")));
    }
}
