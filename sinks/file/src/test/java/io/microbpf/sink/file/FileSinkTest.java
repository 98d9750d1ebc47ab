package io.microbpf.sink.file;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.microbpf.api.Event;
import io.microbpf.api.EventSink;
import io.microbpf.api.SinkStats;
import io.microbpf.api.probe.ConfigException;
import io.microbpf.core.internal.SinkFanout;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FileSinkTest {
    static final ObjectMapper JSON = new ObjectMapper().configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);

    @TempDir
    Path dir;

    static FileSink.Settings settings(Path dir, long maxBytes, long intervalMs, int maxFiles, boolean gzip) {
        return new FileSink.Settings(dir, "events", maxBytes, intervalMs, maxFiles, gzip, "interval", 1000, Set.of());
    }

    static List<Event> batch(long from, int n) {
        List<Event> b = new ArrayList<>();
        for (long i = from; i < from + n; i++) {
            b.add(Sample.of(i));
        }
        return b;
    }

    /** Every line of a (possibly gzipped) file parsed back; fails on a partial or unparsable line. */
    static List<Sample> read(Path file) throws IOException {
        return read(file, false);
    }

    /**
     * The same; with {@code tailMayBeCut}, an unterminated last line (a writer killed inside a
     * multi-page write(2)) is left out instead of failing.
     */
    static List<Sample> read(Path file, boolean tailMayBeCut) throws IOException {
        byte[] raw = Files.readAllBytes(file);
        if (tailMayBeCut) {
            int end = raw.length;
            while (end > 0 && raw[end - 1] != '\n') {
                end--;
            }
            raw = java.util.Arrays.copyOf(raw, end);
        }
        if (file.toString().endsWith(".gz")) {
            try (InputStream in = new GZIPInputStream(Files.newInputStream(file))) {
                raw = in.readAllBytes();
            }
        }
        assertTrue(raw.length == 0 || raw[raw.length - 1] == '\n', file + " must end with a whole line");
        List<Sample> out = new ArrayList<>();
        try (BufferedReader r = new BufferedReader(new InputStreamReader(new java.io.ByteArrayInputStream(raw), StandardCharsets.UTF_8))) {
            String line;
            while ((line = r.readLine()) != null) {
                out.add(JSON.readValue(line, Sample.class));
            }
        }
        return out;
    }

    @Test
    void eachEventIsOneJsonLineThatParsesBackToTheSameRecord() throws Exception {
        try (FileSink sink = new FileSink(settings(dir, 0, 0, 0, false))) {
            sink.deliver(batch(0, 100));
            sink.deliver(batch(100, 1));
        }
        List<Sample> back = read(dir.resolve("events.jsonl"));
        assertEquals(batch(0, 101), new ArrayList<Event>(back));
        assertEquals(101, Files.readAllLines(dir.resolve("events.jsonl")).size(), "one line per event, newlines in text escaped");
    }

    @Test
    void rotationBySizeKeepsTheConfiguredNumberOfFilesEachWithWholeLinesAndTheNewestEvents() throws Exception {
        for (boolean gzip : new boolean[] {false, true}) {
            Path d = dir.resolve("gzip-" + gzip);
            try (FileSink sink = new FileSink(settings(d, 4000, 0, 3, gzip))) {
                for (int i = 0; i < 60; i++) {
                    sink.deliver(batch(i * 5L, 5));
                }
                assertTrue(sink.rotations() > 3, "rotated " + sink.rotations() + " times");
            }
            List<Path> rotated = FileSink.rotatedFiles(d, "events");
            assertEquals(3, rotated.size(), rotated.toString());
            for (Path p : rotated) {
                assertEquals(gzip, p.toString().endsWith(".jsonl.gz"), p.toString());
                assertTrue(Files.size(p) > 0);
            }
            List<Sample> kept = new ArrayList<>();
            for (Path p : rotated) {
                kept.addAll(read(p));
            }
            kept.addAll(read(d.resolve("events.jsonl")));
            // the kept files hold a contiguous run of the newest events, ending with the last one
            assertEquals(299, kept.get(kept.size() - 1).seq());
            for (int i = 1; i < kept.size(); i++) {
                assertEquals(kept.get(i - 1).seq() + 1, kept.get(i).seq(), "contiguous");
            }
            try (var files = Files.list(d)) {
                assertEquals(4, files.count(), "3 rotated + the current file, no temporary files left");
            }
        }
    }

    @Test
    void rotationByTimeHappensOnTheTimerEvenWithoutNewEvents() throws Exception {
        AtomicLong now = new AtomicLong(1_000_000);
        try (FileSink sink = new FileSink(settings(dir, 0, 60_000, 2, false), now::get)) {
            sink.deliver(batch(0, 3));
            now.addAndGet(59_999);
            sink.tick();
            assertEquals(0, sink.rotations());
            now.addAndGet(1);
            sink.tick();
            assertEquals(1, sink.rotations());
            sink.deliver(batch(3, 2));
        }
        List<Path> rotated = FileSink.rotatedFiles(dir, "events");
        assertEquals(1, rotated.size());
        assertEquals(3, read(rotated.get(0)).size());
        assertEquals(2, read(dir.resolve("events.jsonl")).size());
    }

    @Test
    void afterARestartTheSinkCutsAPartialLastLineAndAppends() throws Exception {
        try (FileSink sink = new FileSink(settings(dir, 0, 0, 0, false))) {
            sink.deliver(batch(0, 10));
        }
        Path file = dir.resolve("events.jsonl");
        Files.write(file, "{\"type\":\"test.sample\",\"se".getBytes(StandardCharsets.UTF_8), java.nio.file.StandardOpenOption.APPEND);
        try (FileSink sink = new FileSink(settings(dir, 0, 0, 0, false))) {
            sink.deliver(batch(10, 5));
        }
        List<Sample> back = read(file);
        assertEquals(batch(0, 15), new ArrayList<Event>(back));
    }

    @Test
    void aBadDirectoryGivesOneClearProblemTheSinkIsListedFailedAndOtherSinksGetEverything() throws Exception {
        Path notADir = dir.resolve("plain-file");
        Files.writeString(notADir, "x");
        FileSink sink = new FileSink(settings(notADir.resolve("events"), 0, 0, 0, false));
        sink.open();
        assertEquals("cannot create directory " + notADir.resolve("events") + " (Not a directory)", sink.problem());
        assertTrue(sink.problem().startsWith("cannot create directory " + notADir.resolve("events")), sink.problem());
        IOException e = assertThrows(IOException.class, () -> sink.deliver(batch(0, 1)));
        assertEquals(sink.problem(), e.getMessage());

        List<Event> other = java.util.Collections.synchronizedList(new ArrayList<>());
        try (SinkFanout fanout = new SinkFanout(1000)) {
            fanout.addSink(sink);
            fanout.addSink(new EventSink() {
                public String name() { return "other"; }
                public void deliver(List<Event> b) { other.addAll(b); }
            });
            for (int i = 0; i < 10; i++) {
                fanout.publish(batch(i * 10L, 10));
            }
            SinkStats file = await(fanout, "file", s -> s.failed() == 100);
            assertEquals("failed", file.state(), file.toString());
            assertTrue(file.problem().startsWith("cannot create directory"), file.toString());
            assertEquals(100, file.failed());
            SinkStats o = await(fanout, "other", s -> s.delivered() == 100);
            assertEquals(100, o.delivered());
            assertEquals("ok", o.state());
        }
    }

    static SinkStats await(SinkFanout fanout, String name, java.util.function.Predicate<SinkStats> done) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        SinkStats s = null;
        while (System.nanoTime() < deadline) {
            s = fanout.sinkStats().stream().filter(x -> x.name().equals(name)).findFirst().orElseThrow();
            if (done.test(s)) {
                return s;
            }
            Thread.sleep(10);
        }
        return s;
    }

    @Test
    void aFullDiskGivesOneClearProblemLeavesOnlyWholeLinesAndTheSinkRecoversWhenSpaceReturns() throws Exception {
        requireRoot();
        Path mnt = Files.createDirectories(dir.resolve("tiny"));
        run("mount", "-t", "tmpfs", "-o", "size=128k", "snk-tiny", mnt.toString());
        FileSink sink = null;
        try {
            sink = new FileSink(new FileSink.Settings(mnt, "events", 0, 0, 0, false, "batch", 1000, Set.of()));
            FileSink fileSink = sink;
            List<Event> other = java.util.Collections.synchronizedList(new ArrayList<>());
            long written = 0;
            try (SinkFanout fanout = new SinkFanout(1_000_000)) {
                fanout.addSink(fileSink);
                fanout.addSink(new EventSink() {
                    public String name() { return "other"; }
                    public void deliver(List<Event> b) { other.addAll(b); }
                });
                for (int i = 0; i < 200; i++) { // about 200 × 20 × 150 B = 600 KB into 128 KB
                    fanout.publish(batch(i * 20L, 20));
                }
                SinkStats file = await(fanout, "file", s -> s.delivered() + s.failed() == 4000);
                assertEquals(4000, file.delivered() + file.failed(), file.toString());
                assertTrue(file.failed() > 0, "the disk filled up: " + file);
                assertEquals("failed", file.state(), file.toString());
                assertEquals("disk full writing " + mnt.resolve("events.jsonl") + " (No space left on device)", file.problem());
                written = file.delivered();
                assertEquals(4000, await(fanout, "other", s -> s.delivered() == 4000).delivered(), "the other sink is not affected");

                List<Sample> back = read(mnt.resolve("events.jsonl"));
                assertEquals(written, back.size(), "exactly the delivered events are in the file, as whole lines");

                // space returns: the next batch is written and the problem clears
                Files.delete(mnt.resolve("events.jsonl"));
                fileSink.setSettings(fileSink.settings());
                fanout.publish(batch(10_000, 5));
                SinkStats again = await(fanout, "file", s -> s.delivered() == file.delivered() + 5);
                assertEquals("ok", again.state(), again.toString());
                assertEquals(5, read(mnt.resolve("events.jsonl")).size());
            }
        } finally {
            if (sink != null) {
                sink.close(); // an open file would keep the tmpfs busy and the umount would fail
            }
            run("umount", mnt.toString());
        }
    }

    @Test
    void killingTheWritingProcessMidStreamLeavesNoPartialLineAndARestartAppends() throws Exception {
        Path out = dir.resolve("killed");
        long expectedNext = 0;
        for (int round = 0; round < 3; round++) {
            long first = round * 10_000_000L;
            Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "-cp", System.getProperty("java.class.path"), FileSinkWriterMain.class.getName(), out.toString(),
                    Long.toString(first)).redirectErrorStream(true).start();
            try {
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
                Path file = out.resolve("events.jsonl");
                long start = Files.exists(file) ? Files.size(file) : 0;
                while ((!Files.exists(file) || Files.size(file) < start + (4 << 20)) && System.nanoTime() < deadline) {
                    Thread.sleep(20);
                }
                assertTrue(Files.size(file) >= start + (4 << 20), "the child wrote at least 4 MB");
            } finally {
                p.destroyForcibly(); // SIGKILL, mid-stream
                p.waitFor(10, TimeUnit.SECONDS);
            }
            // SIGKILL can stop the kernel inside one multi-page write(2) at a page boundary
            // (generic_perform_write checks for a fatal signal per page), so the file may end in an
            // unterminated line now; the sink cuts it off when it opens the file again (next round,
            // and the check after the loop). Every complete line must be whole and in order.
            List<Sample> back = read(out.resolve("events.jsonl"), true);
            // every run's events are whole, in order, and earlier runs' events are untouched
            long expect = 0;
            int run = -1;
            for (Sample s : back) {
                if (s.seq() % 10_000_000L == 0) {
                    run++;
                    expect = run * 10_000_000L;
                }
                assertEquals(expect++, s.seq());
                assertEquals(Sample.of(s.seq()), s);
            }
            assertEquals(round, run, "one run per restart");
            expectedNext = expect;
        }
        assertTrue(expectedNext > 20_000_000L);
        // reopening cuts any unterminated tail the last kill left: then the file is whole lines only
        try (FileSink reopened = new FileSink(new FileSink.Settings(out, "events", 0, 0, 0, false, "batch", 1000, Set.of()))) {
            reopened.open();
        }
        List<Sample> all = read(out.resolve("events.jsonl")); // strict: must end with a whole line
        assertEquals(expectedNext, all.get(all.size() - 1).seq() + 1, "nothing complete was cut");
    }

    @Test
    void badConfigurationIsOneMessageNamingEveryBadKey() {
        ConfigException e = assertThrows(ConfigException.class, () -> FileSinkComponent.parse(Map.of(
                "rotate.max.bytes", "-1", "fsync", "sometimes", "prefix", "../x", "gzp", "true")));
        assertEquals("invalid configuration io.microbpf.sink.file: prefix=../x may hold only letters, digits, '.', '_' and '-'; "
                + "rotate.max.bytes=-1 is outside 0..9223372036854775807; fsync=sometimes is not one of [never, rotate, interval, batch]; "
                + "unknown key gzp", e.getMessage());
        FileSink.Settings d = FileSinkComponent.parse(Map.of());
        assertEquals("events", d.prefix());
        assertEquals(10, d.maxFiles());
    }

    static void requireRoot() throws Exception {
        boolean root = "0".equals(new String(new ProcessBuilder("id", "-u").start().getInputStream().readAllBytes()).strip());
        if (!root && "true".equalsIgnoreCase(System.getenv("CI"))) {
            throw new AssertionError("the full-disk test mounts a tmpfs and needs root (CI=true)");
        }
        Assumptions.assumeTrue(root, "the full-disk test mounts a tmpfs and needs root");
    }

    static void run(String... argv) throws Exception {
        Process p = new ProcessBuilder(argv).redirectErrorStream(true).start();
        String output = new String(p.getInputStream().readAllBytes());
        assertEquals(0, p.waitFor(), String.join(" ", argv) + ": " + output);
    }
}
