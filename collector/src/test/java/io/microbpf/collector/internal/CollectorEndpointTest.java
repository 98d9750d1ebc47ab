package io.microbpf.collector.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.microbpf.probe.nic.NicSegmentEvent;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The collector component's HTTP endpoint over a real socket (loopback), and its configuration checks. */
class CollectorEndpointTest {
    private final HttpClient http = HttpClient.newHttpClient();
    private final ObjectMapper json = new ObjectMapper();

    private HttpResponse<String> post(String url, byte[] body) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create(url)).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofByteArray(body)).build(), HttpResponse.BodyHandlers.ofString());
    }

    static NicSegmentEvent seg(String dir, long ts) {
        return new NicSegmentEvent(dir, 4, "10.240.1.1", 40000, "10.240.2.1", 24001, 1, 2, 100, 3, 0x18, 3, "x", 1, 1, 0,
                "tp_btf/net_dev_start_xmit", ts, ts);
    }

    @Test
    void takesPushesAnswersStatusCodesAndServesSummaries() throws Exception {
        CollectorComponent c = new CollectorComponent();
        c.bindClock(new FakeClockSync("client").offset("server", 1_000_000_000L));
        c.activate(Map.of("listen.address", "127.0.0.1", "listen.port", "0", "max.body.bytes", "4096"));
        try {
            assertNull(c.problem());
            String url = c.endpoint();
            assertTrue(url.startsWith("http://127.0.0.1:") && url.endsWith("/microbpf/push"), url);
            byte[] tx = json.writeValueAsBytes(Map.of("agent", "client", "sentWallNs", 1, "events", List.of(seg("TX", 5_000))));
            byte[] rx = json.writeValueAsBytes(Map.of("agent", "server", "sentWallNs", 1, "events", List.of(seg("RX", 1_000_035_000L))));
            assertEquals(204, post(url, tx).statusCode());
            assertEquals(204, post(url, rx).statusCode());
            HttpResponse<String> bad = post(url, "{\"agent\": 1}".getBytes());
            assertEquals(400, bad.statusCode());
            assertTrue(bad.body().contains("agent"), bad.body());
            assertEquals(413, post(url, new byte[5000]).statusCode());
            assertEquals(405, http.send(HttpRequest.newBuilder(URI.create(url)).GET().build(), HttpResponse.BodyHandlers.ofString()).statusCode());
            JsonNode netlat = json.readTree(http.send(HttpRequest.newBuilder(URI.create(url.replace("/push", "/netlat"))).GET().build(),
                    HttpResponse.BodyHandlers.ofString()).body());
            assertEquals(1, netlat.path("stats").path("matched").asLong(), netlat.toString());
            assertEquals(3, netlat.path("stats").path("rejectedBatches").asLong(), netlat.toString());
            assertEquals(30_000, netlat.path("summaries").get(0).path("p50Ns").asLong(), 30, netlat.toString());
        } finally {
            c.deactivate();
        }
    }

    @Test
    void aBadConfigurationIsRejectedWholeAndThePreviousEndpointKept() throws Exception {
        CollectorComponent c = new CollectorComponent();
        c.bindClock(new FakeClockSync("client"));
        c.activate(Map.of("listen.address", "127.0.0.1", "listen.port", "0"));
        try {
            String before = c.endpoint();
            assertNotNull(before);
            c.applyConfig(Map.of("listen.port", "-1", "window.ms", "0", "path", "nope", "colour", "red"));
            String p = c.problem();
            for (String s : new String[] {"listen.port=-1", "window.ms=0", "path=nope", "unknown key colour", "keeping the previous"}) {
                assertTrue(p.contains(s), s + " in " + p);
            }
            assertEquals(before, c.endpoint());
            assertEquals(204, post(before, json.writeValueAsBytes(Map.of("agent", "client", "events", List.of()))).statusCode());
        } finally {
            c.deactivate();
        }
    }
}
