package io.microbpf.sink.http;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.microbpf.probe.ack.TcpFlowEvent;
import java.io.InputStream;
import java.net.HttpURLConnection;
import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Benchmark (not a test; bench/run-sink-bench.sh runs it): latency of GET /microbpf/metrics and
 * /microbpf/api/flows with 10 000 live flows in the flow table (synthetic TcpFlowEvent records: the
 * endpoint's cost is rendering, not the kernel), served by the JDK HTTP server adapter of
 * {@link Routes} on 127.0.0.1. Configurations are interleaved request by request.
 *
 * <p>usage: MetricsBench <flows> <requests per configuration>
 */
public final class MetricsBench {
    record Config(String name, String path, int maxFlows) {}

    public static void main(String[] args) throws Exception {
        int nFlows = Integer.parseInt(args[0]);
        int requests = Integer.parseInt(args[1]);
        List<TcpFlowEvent> flows = new ArrayList<>();
        for (int i = 0; i < nFlows; i++) {
            flows.add(new TcpFlowEvent("SNAPSHOT", 4, "10.220." + (i / 250) + "." + (i % 250 + 1), 22000 + i % 1000, "10.220.200.1",
                    443, 4026531840L, 1000 + i, 0, "", 3, 65535, 131072, 10, 1448, i % 3, 1000L * i, 2000L * i, 1, 0, 100, 200,
                    5, 500, 90, 2000L * i, 4, 1000L * i, 3, 17, 1_500_000_000L, "Open", 1, 2));
        }
        HistogramReport layer = new HistogramReport("layer");
        HistogramReport netlat = new HistogramReport("netlat");
        for (String l : new String[] {"RX-NIC", "RX-IP", "RX-TCP", "RX-APP", "TX-APP", "TX-TCP", "TX-IP", "TX-NIC"}) {
            for (int i = 1; i <= 10_000; i++) {
                layer.record(Map.of("layer", l), 1000L * i);
            }
        }
        for (int p = 0; p < 20; p++) {
            netlat.record(Map.of("src", "10.220.0." + p, "dst", "10.220.1.1"), 50_000 + p);
        }
        List<Config> configs = List.of(new Config("/metrics, metrics.max.flows=100 (default)", "/metrics", 100),
                new Config("/metrics, metrics.max.flows=10000 (every flow)", "/metrics", 10_000),
                new Config("/api/flows?limit=10000", "/api/flows?limit=10000", 100));
        List<long[]> latencies = new ArrayList<>();
        long[] bytes = new long[configs.size()];
        List<TestHttpServer> servers = new ArrayList<>();
        try {
            for (Config c : configs) {
                TestSources s = new TestSources();
                s.flowTables.add(MetricsTest.table(flows));
                s.latencyReports.add(layer);
                s.latencyReports.add(netlat);
                servers.add(new TestHttpServer(new Routes(new ObjectMapper(), s, new EventStream(),
                        new Routes.Settings(c.maxFlows(), 1_000_000, 4, 100, 1000, null))));
                latencies.add(new long[requests]);
            }
            for (int i = -20; i < requests; i++) { // 20 warm-up rounds
                for (int k = 0; k < configs.size(); k++) {
                    long t0 = System.nanoTime();
                    HttpURLConnection conn = (HttpURLConnection) URI.create(servers.get(k).base() + configs.get(k).path()).toURL().openConnection();
                    long n;
                    try (InputStream in = conn.getInputStream()) {
                        n = in.transferTo(java.io.OutputStream.nullOutputStream());
                    }
                    long ns = System.nanoTime() - t0;
                    if (conn.getResponseCode() != 200) {
                        throw new AssertionError(configs.get(k) + ": HTTP " + conn.getResponseCode());
                    }
                    if (i >= 0) {
                        latencies.get(k)[i] = ns;
                        bytes[k] = n;
                    }
                }
            }
        } finally {
            servers.forEach(TestHttpServer::close);
        }
        System.out.println("| endpoint (" + nFlows + " live flows) | body | p50 | p90 | max |");
        System.out.println("|---|---:|---:|---:|---:|");
        for (int k = 0; k < configs.size(); k++) {
            long[] l = latencies.get(k);
            java.util.Arrays.sort(l);
            System.out.printf(Locale.ROOT, "| %s | %.1f MB | %.1f ms | %.1f ms | %.1f ms |%n", configs.get(k).name(), bytes[k] / 1e6,
                    l[l.length / 2] / 1e6, l[(int) (l.length * 0.9)] / 1e6, l[l.length - 1] / 1e6);
        }
        System.out.println();
        System.out.println(requests + " requests per endpoint after 20 warm-up rounds, interleaved request by request.");
    }
}
