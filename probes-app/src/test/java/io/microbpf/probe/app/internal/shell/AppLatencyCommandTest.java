package io.microbpf.probe.app.internal.shell;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.microbpf.api.latency.LatencySummary;
import io.microbpf.probe.app.AppLatency;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.HdrHistogram.Histogram;
import org.junit.jupiter.api.Test;

class AppLatencyCommandTest {
    static LatencySummary series(String role, String whereKey, String where, String phase, long... ns) {
        Histogram h = new Histogram(3);
        for (long v : ns) {
            h.recordValue(v);
        }
        Map<String, String> labels = new LinkedHashMap<>();
        labels.put("role", role);
        labels.put(whereKey, where);
        labels.put("phase", phase);
        return LatencySummary.of("app", labels, h);
    }

    static final class FakeReport implements AppLatency {
        boolean reset;

        public String family() {
            return "app";
        }

        public List<LatencySummary> summaries() {
            return List.of(series("server", "port", "8080", "think", 20_000_000, 21_000_000),
                    series("server", "port", "443", "queue", 1_500), series("client", "port", "8080", "request", 22_000_000));
        }

        public List<LatencySummary> flowSummaries() {
            return List.of(series("server", "flow", "10.0.0.2:8080>10.0.0.1:40000", "think", 20_000_000));
        }

        public void reset() {
            reset = true;
        }

        public Counts counts() {
            return new Counts(3, 1, 2, 0, 5, 4);
        }
    }

    private static String run(AppLatencyCommand cmd) {
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        cmd.out = new PrintStream(buf, true);
        cmd.execute();
        return buf.toString();
    }

    @Test
    void printsARowPerRolePortAndPhaseWithUnitsAndFilters() {
        FakeReport report = new FakeReport();
        AppLatencyCommand cmd = new AppLatencyCommand();
        cmd.report = report;
        String all = run(cmd);
        assertTrue(all.startsWith("ROLE    PORT  PHASE    COUNT"), all);
        assertTrue(all.contains("server  8080  think        2  20.0 ms"), all);
        assertTrue(all.contains("1.50 µs"), all);
        assertTrue(all.contains("3 exchanges answered; without a response: 1 closed, 2 timed out, 0 superseded, "
                + "5 evicted from the pending map; 4 app.exchange records published"), all);
        cmd.port = 8080;
        cmd.role = "client";
        String one = run(cmd);
        assertEquals(2, one.lines().count() - 1, one);
        assertTrue(one.contains("client  8080  request"), one);
        cmd.role = null;
        cmd.flows = true;
        cmd.reset = true;
        String flows = run(cmd);
        assertTrue(flows.contains("10.0.0.2:8080>10.0.0.1:40000"), flows);
        assertTrue(report.reset && flows.contains("every series reset"), flows);
        cmd.flows = false;
        cmd.reset = false;
        cmd.port = 9999;
        assertTrue(run(cmd).startsWith("no exchanges recorded for this selection (3 series in all)"));
    }

    @Test
    void badArgumentsAreOneClearMessage() {
        AppLatencyCommand cmd = new AppLatencyCommand();
        cmd.report = new FakeReport();
        cmd.role = "proxy";
        assertEquals("--role must be server or client, got 'proxy'",
                assertThrows(IllegalArgumentException.class, cmd::execute).getMessage());
        cmd.role = null;
        cmd.port = 70000;
        assertEquals("--port must be 1..65535, got 70000", assertThrows(IllegalArgumentException.class, cmd::execute).getMessage());
    }
}
