package io.microbpf.core.internal.shell;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.microbpf.api.latency.LatencyReport;
import io.microbpf.api.latency.LatencySummary;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.HdrHistogram.Histogram;
import org.junit.jupiter.api.Test;

/** microbpf:latency over fake reports. */
class LatencyCommandTest {
    /** A report holding fixed series; counts its resets. */
    static final class FakeReport implements LatencyReport {
        final String family;
        final List<LatencySummary> series = new ArrayList<>();
        int resets;

        FakeReport(String family) {
            this.family = family;
        }

        FakeReport add(String layer, String flow, long... valuesNs) {
            Histogram h = new Histogram(3);
            for (long v : valuesNs) {
                h.recordValue(v);
            }
            Map<String, String> labels = new LinkedHashMap<>();
            labels.put("layer", layer);
            if (flow != null) {
                labels.put("flow", flow);
            }
            series.add(LatencySummary.of(family, labels, h));
            return this;
        }

        public String family() { return family; }
        public List<LatencySummary> summaries() { return series; }
        public void reset() { resets++; }
        public Map<String, Long> counters() { return Map.of(family + ".unmatched", 7L); }
    }

    private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();

    private String run(List<LatencyReport> reports, String flow, boolean reset) {
        LatencyCommand cmd = new LatencyCommand();
        cmd.out = new PrintStream(bytes, true);
        cmd.reports = () -> reports;
        cmd.flow = flow;
        cmd.reset = reset;
        cmd.execute();
        return bytes.toString();
    }

    @Test
    void oneRowPerLayerInStackOrderAcrossBothProbesWithUnits() {
        FakeReport tx = new FakeReport("layer").add("TX-MAC", null, 800).add("TX-TCP", null, 5_000_000)
                .add("TX-QDISC", "10.0.0.1:5->10.0.0.2:6", 3_000_000);
        FakeReport rx = new FakeReport("layer").add("RX-TCP", null, 50_000_000).add("RX-MAC", null, 1_500);
        FakeReport app = new FakeReport("app").add("RX-TCP", null, 1);
        String text = run(List.of(tx, rx, app), null, false);
        String[] lines = text.split("\n");
        assertTrue(lines[0].startsWith("LAYER") && lines[0].contains("P99.9"), text);
        assertTrue(lines[1].startsWith("RX-MAC") && lines[1].contains("µs"), text);
        assertTrue(lines[2].startsWith("RX-TCP") && lines[2].contains("ms"), text);
        assertTrue(lines[3].startsWith("TX-TCP"), text);
        assertTrue(lines[4].startsWith("TX-MAC") && lines[4].contains("ns"), text);
        assertTrue(!text.contains("TX-QDISC") && !text.contains("FLOW"), "per-flow rows only with --flow: " + text);
        assertTrue(text.contains("layer.unmatched=7"), text);
        assertEquals(0, tx.resets + rx.resets);
    }

    @Test
    void flowSelectsPerFlowRowsAndResetEmptiesEveryLayerReport() {
        FakeReport tx = new FakeReport("layer").add("TX-TCP", null, 5).add("TX-QDISC", "10.0.0.1:5->10.0.0.2:6", 3_000_000)
                .add("TX-QDISC", "10.0.0.1:7->10.0.0.2:6", 1);
        FakeReport app = new FakeReport("app");
        String text = run(List.of(tx, app), ":5->", true);
        assertTrue(text.contains("FLOW") && text.contains("10.0.0.1:5->10.0.0.2:6") && text.contains("3.00 ms"), text);
        assertTrue(!text.contains(":7->") && !text.contains("TX-TCP"), text);
        assertTrue(text.contains("measurement window reset"), text);
        assertEquals(1, tx.resets);
        assertEquals(0, app.resets);
    }

    @Test
    void noProbesOrNoMatchingFlowIsOneClearLine() {
        assertTrue(run(List.of(), null, false).contains("no per-layer latency probes installed"));
        bytes.reset();
        String text = run(List.of(new FakeReport("layer").add("RX-TCP", null, 5)), "nope", false);
        assertTrue(text.startsWith("no flow matches 'nope'"), text);
    }
}
