package io.microbpf.sink.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.microbpf.probe.ack.FlowTable;
import io.microbpf.probe.ack.TcpFlowEvent;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class MetricsTest {
    static TcpFlowEvent flow(long i, long sent) {
        return new TcpFlowEvent("SNAPSHOT", 4, "10.220.0.1", 22000 + (int) i, "10.220.0.2", 80, 4026531840L, 1000 + i, 0, "",
                3, 65535, 131072, 10, 1448, i % 3, sent, 2 * sent, 1, 0, 100, 200, 5, 500, 90, 2 * sent, 4, sent, 3, 17,
                1_500_000_000L, "Open", 1, 2);
    }

    static FlowTable table(List<TcpFlowEvent> flows) {
        return new FlowTable() {
            public List<TcpFlowEvent> flows() { return flows; }
            public long evictedFlows() { return 42; }
            public long socketStorageFailedFlows() { return 3; }
        };
    }

    static String render(TestSources s, int maxFlows) throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        Metrics.write(out, s, maxFlows);
        return out.toString(StandardCharsets.UTF_8);
    }

    @Test
    void flowSeriesAreBoundedToTheLargestFlowsAndPromtoolAcceptsTheText() throws Exception {
        List<TcpFlowEvent> flows = new ArrayList<>();
        for (int i = 0; i < 12; i++) {
            flows.add(flow(i, 1000L * (i + 1)));
        }
        TestSources s = new TestSources();
        s.flowTables.add(table(flows));
        String text = render(s, 5);
        Promtool.check(text);
        Map<String, Double> v = Promtool.samples(text);
        assertEquals(12.0, v.get("microbpf_flows"));
        assertEquals(7.0, v.get("microbpf_flows_not_exported"));
        assertEquals(42.0, v.get("microbpf_flows_evicted_total"));
        assertEquals(3.0, v.get("microbpf_flows_socket_storage_failed_total"));
        long series = v.keySet().stream().filter(k -> k.startsWith("microbpf_flow_sent_bytes_total{")).count();
        assertEquals(5, series, "metrics.max.flows bounds the flow series");
        // the five largest (by bytes moved) are flows 7..11
        for (int i = 7; i < 12; i++) {
            String labels = "{local=\"10.220.0.1:" + (22000 + i) + "\",netns=\"4026531840\",remote=\"10.220.0.2:80\"}";
            assertEquals(1000.0 * (i + 1), v.get("microbpf_flow_sent_bytes_total" + labels), text);
            assertEquals(2000.0 * (i + 1), v.get("microbpf_flow_received_bytes_total" + labels));
            assertEquals(10.0, v.get("microbpf_flow_cwnd_packets" + labels));
            assertEquals(90e-6, v.get("microbpf_flow_srtt_seconds" + labels), 1e-12);
        }
        assertFalse(text.contains(":22000\""), "the smallest flow is not exported");
        assertTrue(render(s, 0).contains("microbpf_flows_not_exported 12"));
    }

    @Test
    void latencySummariesBecomePrometheusHistogramsWithTheirPowerOfTwoBuckets() throws Exception {
        HistogramReport layer = new HistogramReport("layer");
        long[] samples = {1_500, 3_000, 3_000, 50_000, 2_000_000};
        for (long ns : samples) {
            layer.record(Map.of("layer", "RX-TCP"), ns);
        }
        layer.record(Map.of("layer", "TX-IP"), 900);
        TestSources s = new TestSources();
        s.latencyReports.add(layer);
        String text = render(s, 10);
        Promtool.check(text);
        Map<String, Double> v = Promtool.samples(text);
        assertTrue(text.contains("# TYPE microbpf_layer_latency_seconds histogram"), text);
        assertEquals(5.0, v.get("microbpf_layer_latency_seconds_count{layer=\"RX-TCP\"}"));
        assertEquals(1.0, v.get("microbpf_layer_latency_seconds_count{layer=\"TX-IP\"}"));
        // le=2.048e-6: only the 1.5 µs sample; le=4.096e-6: three; le=65.536e-6: four; +Inf: five
        assertEquals(1.0, bucket(v, "RX-TCP", 2048));
        assertEquals(3.0, bucket(v, "RX-TCP", 4096));
        assertEquals(4.0, bucket(v, "RX-TCP", 65536));
        assertEquals(5.0, v.get("microbpf_layer_latency_seconds_bucket{layer=\"RX-TCP\",le=\"+Inf\"}"));
        assertEquals(1.0, bucket(v, "TX-IP", 1024));
        double sum = v.get("microbpf_layer_latency_seconds_sum{layer=\"RX-TCP\"}");
        assertEquals(2_057_500e-9, sum, 2_057_500e-9 * 0.002, "sum within HdrHistogram's precision");
    }

    private static double bucket(Map<String, Double> v, String layer, long boundNs) {
        for (Map.Entry<String, Double> e : v.entrySet()) {
            if (e.getKey().startsWith("microbpf_layer_latency_seconds_bucket{layer=\"" + layer + "\",le=\"")) {
                String le = e.getKey().replaceAll(".*le=\"([^\"]+)\".*", "$1");
                if (!le.equals("+Inf") && Math.abs(Double.parseDouble(le) - boundNs * 1e-9) < 1e-15) {
                    return e.getValue();
                }
            }
        }
        throw new AssertionError("no bucket le=" + boundNs + "ns for " + layer + " in " + v.keySet());
    }
}
