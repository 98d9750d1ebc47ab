package io.microbpf.core.internal.shell;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.microbpf.api.Dispatcher;
import io.microbpf.api.Event;
import io.microbpf.api.HookReport;
import io.microbpf.api.Probe;
import io.microbpf.api.ProbeRegistry;
import io.microbpf.api.ProbeState;
import io.microbpf.api.SinkStats;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The shell commands, constructed directly with fake services. */
class ShellCommandsTest {
    /** A probe that starts or fails as told. */
    static final class FakeProbe implements Probe {
        final String id;
        final boolean canStart;
        ProbeState state = ProbeState.STOPPED;
        String problem;

        FakeProbe(String id, boolean canStart) {
            this.id = id;
            this.canStart = canStart;
        }

        public String id() { return id; }
        public String family() { return "flow"; }
        public ProbeState state() { return state; }
        public List<HookReport> hooks() {
            return List.of(new HookReport("tcp-state-change", "tp_btf/inet_sock_set_state",
                    List.of("fentry/tcp_set_state: load of ack failed: EPERM (Operation not permitted)")));
        }
        public long events() { return 42; }
        public long lost() { return 3; }
        public String problem() { return problem; }
        public void start() {
            if (canStart) {
                state = ProbeState.RUNNING;
            } else {
                state = ProbeState.FAILED;
                problem = "insufficient privileges: run the agent as root";
            }
        }
        public void stop() { state = ProbeState.STOPPED; }
    }

    static ProbeRegistry registry(Probe... probes) {
        return new ProbeRegistry() {
            public List<Probe> probes() { return List.of(probes); }
            public Optional<Probe> probe(String id) { return List.of(probes).stream().filter(p -> p.id().equals(id)).findFirst(); }
        };
    }

    private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    private final PrintStream out = new PrintStream(bytes, true);

    @Test
    void probeListShowsStateHookEventsAndLossesAndWhyHooksWereRejected() {
        ProbeListCommand cmd = new ProbeListCommand();
        cmd.registry = registry(new FakeProbe("ack", true));
        cmd.out = out;
        cmd.verbose = true;
        cmd.execute();
        String text = bytes.toString();
        assertTrue(text.contains("ack") && text.contains("flow") && text.contains("STOPPED")
                && text.contains("tcp-state-change=tp_btf/inet_sock_set_state") && text.contains("42") && text.contains("3"), text);
        assertTrue(text.contains("ack tcp-state-change rejected fentry/tcp_set_state: load of ack failed: EPERM"), text);
    }

    @Test
    void probeStartAndStopDriveTheProbe() {
        FakeProbe ack = new FakeProbe("ack", true);
        ProbeStartCommand start = new ProbeStartCommand();
        start.registry = registry(ack);
        start.id = "ack";
        start.out = out;
        start.execute();
        assertEquals(ProbeState.RUNNING, ack.state);
        ProbeStopCommand stop = new ProbeStopCommand();
        stop.registry = registry(ack);
        stop.id = "ack";
        stop.out = out;
        stop.execute();
        assertEquals(ProbeState.STOPPED, ack.state);
        assertEquals("probe ack running\nprobe ack stopped (until probe-start; configuration changes do not start it)\n",
                bytes.toString());
    }

    @Test
    void anUnknownIdOrAFailedStartIsOneClearMessage() {
        ProbeStartCommand start = new ProbeStartCommand();
        start.registry = registry(new FakeProbe("ack", false));
        start.id = "akc";
        start.out = out;
        assertEquals("no probe 'akc'; installed probes: ack", assertThrows(IllegalArgumentException.class, start::execute).getMessage());
        start.id = "ack";
        assertEquals("probe ack did not start: insufficient privileges: run the agent as root",
                assertThrows(IllegalStateException.class, start::execute).getMessage());
    }

    @Test
    void sinkListAndStatsReportTheDispatcherCounters() {
        Dispatcher dispatcher = new Dispatcher() {
            public void publish(List<Event> batch) { }
            public List<SinkStats> sinkStats() {
                return List.of(new SinkStats("console", 100, 7, 2, 1, "java.io.IOException: broken pipe"),
                        new SinkStats("file", 5, 0, 3, 0, null, "disk full writing /x/events.jsonl",
                                Map.of("longLines", 2L)));
            }
            public long publishedEvents() { return 110; }
        };
        SinkListCommand list = new SinkListCommand();
        list.dispatcher = dispatcher;
        list.out = out;
        list.execute();
        String text = bytes.toString();
        assertTrue(text.contains("console") && text.contains("100") && text.contains("7") && text.contains("broken pipe"), text);
        assertTrue(text.lines().anyMatch(l -> l.startsWith("console") && l.contains(" ok ")), text);
        assertTrue(text.lines().anyMatch(l -> l.startsWith("file") && l.contains("failed: disk full writing /x/events.jsonl")), text);
        assertTrue(text.lines().anyMatch(l -> l.startsWith("file") && l.contains("| longLines=2 ")), text);
        assertTrue(text.lines().anyMatch(l -> l.startsWith("console") && l.contains("| - ")), "a sink without counters: " + text);
        Map<String, Long> ordered = new LinkedHashMap<>();
        ordered.put("longLines", 2L);
        ordered.put("rotations", 0L);
        ordered.put("paddingBytes", 641L);
        assertEquals("longLines=2 rotations=0 paddingBytes=641", SinkListCommand.counters(ordered), "in the sink's order");
        bytes.reset();
        StatsCommand stats = new StatsCommand();
        stats.dispatcher = dispatcher;
        stats.registry = registry(new FakeProbe("ack", true));
        stats.out = out;
        stats.execute();
        List<String> lines = new ArrayList<>(List.of(bytes.toString().split("\n")));
        assertTrue(lines.contains("events read       42"), lines.toString());
        assertTrue(lines.contains("events published  110"), lines.toString());
        assertTrue(lines.stream().anyMatch(l -> l.startsWith("sink dropped      7")), lines.toString());
    }
}
