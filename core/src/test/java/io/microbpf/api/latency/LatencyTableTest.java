package io.microbpf.api.latency;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.HdrHistogram.Histogram;
import org.junit.jupiter.api.Test;

class LatencyTableTest {

    @Test
    void durationsCarryTheirUnit() {
        assertEquals("850 ns", LatencyTable.duration(850));
        assertEquals("12.3 µs", LatencyTable.duration(12_300));
        assertEquals("4.56 ms", LatencyTable.duration(4_560_000));
        assertEquals("250 ms", LatencyTable.duration(250_000_000));
        assertEquals("1.20 s", LatencyTable.duration(1_200_000_000));
    }

    @Test
    void oneRowPerSummaryWithLabelColumns() {
        Histogram h = new Histogram(3);
        h.recordValue(2_000_000);
        Map<String, String> labels = new LinkedHashMap<>();
        labels.put("layer", "RX-TCP");
        String table = LatencyTable.render(List.of(
                LatencySummary.of("layer", labels, h),
                LatencySummary.of("layer", Map.of("layer", "TX-MAC"), new Histogram(3))));
        String[] lines = table.split("\n");
        assertEquals(3, lines.length);
        assertTrue(lines[0].startsWith("LAYER"), lines[0]);
        assertTrue(lines[1].startsWith("RX-TCP") && lines[1].contains(" 1 ") && lines[1].contains("2.00 ms"), lines[1]);
        assertTrue(lines[2].startsWith("TX-MAC") && lines[2].trim().endsWith("-"), lines[2]);
    }
}
