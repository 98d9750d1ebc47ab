package io.microbpf.collector.internal.shell;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.microbpf.api.latency.LatencySummary;
import io.microbpf.collector.CollectorStats;
import io.microbpf.collector.NetLatencyCollector;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.HdrHistogram.Histogram;
import org.junit.jupiter.api.Test;

class NetlatCommandTest {
    @Test
    void printsTheLatencyTableAndTheCountersAndResetsOnRequest() {
        Histogram h = new Histogram(3);
        h.recordValue(26_300_000);
        Map<String, String> labels = new LinkedHashMap<>();
        labels.put("from", "client");
        labels.put("to", "server");
        int[] resets = {0};
        boolean[] flowsAsked = {false};
        NetlatCommand c = new NetlatCommand();
        c.collector = new NetLatencyCollector() {
            @Override
            public List<LatencySummary> summaries(boolean flows) {
                flowsAsked[0] = flows;
                return List.of(LatencySummary.of("netlat", labels, h));
            }

            @Override
            public CollectorStats stats() {
                return new CollectorStats(5, 1, 100, 40, 3, 2, 0, 7, 0, 0, 1, 9, 8, 0);
            }

            @Override
            public void reset() {
                resets[0]++;
            }

            @Override
            public String endpoint() {
                return "http://0.0.0.0:7788/microbpf/push";
            }
        };
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        c.out = new PrintStream(bytes, true, StandardCharsets.UTF_8);
        c.flows = true;
        c.reset = true;
        c.execute();
        String out = bytes.toString(StandardCharsets.UTF_8);
        for (String s : new String[] {"FROM", "TO", "P50", "client", "server", "26.3 ms", "records 100, matched 40",
            "pending tx 9 / rx 8", "aged out tx 3 / rx 2", "no clock 7", "negative (clamped to 0) 1", "pushes 5 (refused 1)",
            "http://0.0.0.0:7788/microbpf/push"}) {
            assertTrue(out.contains(s), s + " in:\n" + out);
        }
        assertTrue(flowsAsked[0]);
        assertEquals(1, resets[0]);
    }
}
