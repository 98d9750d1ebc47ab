package io.microbpf.sink.console;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.microbpf.api.Event;
import io.microbpf.api.probe.ConfigException;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class ConsoleSinkTest {
    record E(String type, long monotonicNs, String summary) implements Event {
        @Override
        public long wallClockNs() {
            return 1_700_000_000_000_000_000L + monotonicNs;
        }
    }

    private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    private final PrintStream out = new PrintStream(bytes, true);

    private List<String> lines() {
        String s = bytes.toString().strip();
        return s.isEmpty() ? List.of() : List.of(s.split("\n"));
    }

    private static List<Event> flood(String type, int n) {
        List<Event> b = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            b.add(new E(type, i, type + " #" + i));
        }
        return b;
    }

    @Test
    void summaryModePrintsOneLinePerTypePerIntervalWhateverTheFlood() {
        ConsoleSink sink = new ConsoleSink(out, new ConsoleSink.Settings("summary", 1000, Set.of(), 50));
        sink.deliver(flood("tcp.connection", 100_000));
        sink.deliver(flood("tcp.flow", 3));
        assertEquals(List.of(), lines(), "nothing printed before the interval ends");
        sink.tick(0);
        List<String> lines = lines();
        assertEquals(2, lines.size(), lines.toString());
        assertTrue(lines.get(0).matches("\\[microbpf .*] tcp.connection\\s+100000 in 1000ms  latest: tcp.connection #99999"), lines.get(0));
        assertTrue(lines.get(1).contains("tcp.flow") && lines.get(1).contains(" 3 in 1000ms") && lines.get(1).endsWith("tcp.flow #2"), lines.get(1));
        sink.tick(1000);
        assertEquals(2, lines().size(), "an idle interval prints nothing");
    }

    @Test
    void summaryModeCountsInterleavedTypesWithinABatchAndKeepsTheLatestOfEach() {
        ConsoleSink sink = new ConsoleSink(out, new ConsoleSink.Settings("summary", 1000, Set.of(), 50));
        String[] types = {"a", "b", "a", "a", "b", "c", "a"};
        List<Event> batch = new ArrayList<>();
        for (int i = 0; i < types.length; i++) {
            batch.add(new E(types[i], i, types[i] + " #" + i));
        }
        sink.deliver(batch);
        sink.deliver(List.of(new E("b", 99, "b #99")));
        sink.tick(0);
        List<String> lines = lines();
        assertEquals(3, lines.size(), lines.toString());
        assertTrue(lines.get(0).matches(".*] a\\s+4 in 1000ms  latest: a #6"), lines.get(0));
        assertTrue(lines.get(1).matches(".*] b\\s+3 in 1000ms  latest: b #99"), lines.get(1));
        assertTrue(lines.get(2).matches(".*] c\\s+1 in 1000ms  latest: c #5"), lines.get(2));
    }

    @Test
    void eventsModePrintsEachEventUpToTheCapAndCountsTheRest() {
        ConsoleSink sink = new ConsoleSink(out, new ConsoleSink.Settings("events", 1000, Set.of(), 10));
        sink.deliver(flood("tcp.connection", 25));
        sink.tick(0);
        List<String> lines = lines();
        assertEquals(11, lines.size());
        assertTrue(lines.get(0).endsWith("tcp.connection tcp.connection #0"), lines.get(0));
        assertTrue(lines.get(10).contains("15 more events in the last 1000ms not shown"), lines.get(10));
    }

    @Test
    void typeFilterKeepsOnlyTheChosenTypes() {
        ConsoleSink sink = new ConsoleSink(out, new ConsoleSink.Settings("events", 1000, Set.of("tcp.flow"), 100));
        assertTrue(sink.accepts("tcp.flow"));
        assertTrue(!sink.accepts("tcp.connection"));
        sink.deliver(flood("tcp.connection", 5));
        sink.deliver(flood("tcp.flow", 2));
        assertEquals(2, lines().size());
    }

    @Test
    void badConfigurationIsRejectedWithOneMessageNamingEachKey() {
        ConfigException e = assertThrows(ConfigException.class,
                () -> ConsoleSinkComponent.parse(Map.of("mode", "verbose", "interval.ms", "0")));
        assertEquals("invalid configuration io.microbpf.sink.console: mode=verbose is not one of [summary, events]; "
                + "interval.ms=0 is outside 100..3600000", e.getMessage());
        assertEquals(new ConsoleSink.Settings("summary", 1000, Set.of(), 50), ConsoleSinkComponent.parse(Map.of()));
    }
}
