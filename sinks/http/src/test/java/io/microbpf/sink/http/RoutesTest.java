package io.microbpf.sink.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.microbpf.api.Dispatcher;
import io.microbpf.api.Event;
import io.microbpf.api.SinkStats;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.HttpURLConnection;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The URL space over real HTTP (JDK server adapter): status codes, auth, the event stream's type filter. */
class RoutesTest {
    static final ObjectMapper JSON = new ObjectMapper();

    record Ev(String type, long seq, long monotonicNs, long wallClockNs) implements Event {
        public String summary() {
            return type + "#" + seq;
        }
    }

    static Routes routes(EventStream stream, Routes.Authenticator auth) {
        TestSources s = new TestSources();
        s.flowTables.add(MetricsTest.table(List.of(MetricsTest.flow(1, 100), MetricsTest.flow(2, 300))));
        return new Routes(JSON, s, stream, new Routes.Settings(10, 1000, 2, 100, 200, auth));
    }

    static HttpURLConnection get(String url, String basic) throws Exception {
        HttpURLConnection c = (HttpURLConnection) URI.create(url).toURL().openConnection();
        c.setInstanceFollowRedirects(false);
        if (basic != null) {
            c.setRequestProperty("Authorization", "Basic " + Base64.getEncoder().encodeToString(basic.getBytes(StandardCharsets.UTF_8)));
        }
        return c;
    }

    static String body(HttpURLConnection c) throws Exception {
        return new String((c.getResponseCode() < 400 ? c.getInputStream() : c.getErrorStream()).readAllBytes(), StandardCharsets.UTF_8);
    }

    @Test
    void apiSinksCarriesEachSinksOwnCounters() throws Exception {
        TestSources s = new TestSources();
        s.dispatcher = new Dispatcher() {
            public void publish(List<Event> batch) {}
            public List<SinkStats> sinkStats() {
                return List.of(new SinkStats("file", 5, 0, 0, 0, null, null, Map.of("longLines", 2L)),
                        new SinkStats("console", 7, 0, 0, 0, null));
            }
            public long publishedEvents() { return 12; }
        };
        JsonNode sinks = JSON.readTree(new Api(JSON, s).sinks());
        assertEquals("file", sinks.get(0).get("name").asText());
        assertEquals(2, sinks.get(0).get("counters").get("longLines").asLong(), sinks.toString());
        assertEquals(0, sinks.get(1).get("counters").size(), "a sink without counters: " + sinks);
    }

    @Test
    void pagesApiAndErrorsAnswerWithTheRightStatus() throws Exception {
        try (TestHttpServer server = new TestHttpServer(routes(new EventStream(), null))) {
            HttpURLConnection page = get(server.base() + "/", null);
            assertEquals(200, page.getResponseCode());
            assertTrue(body(page).contains("<script src=\"app.js\">"));
            assertEquals(200, get(server.base() + "/app.js", null).getResponseCode());
            HttpURLConnection root = get(server.base(), null);
            assertEquals(302, root.getResponseCode());
            assertEquals("/microbpf/", root.getHeaderField("Location"));
            HttpURLConnection flows = get(server.base() + "/api/flows?sort=bytesSent&limit=1", null);
            assertEquals(200, flows.getResponseCode());
            JsonNode f = JSON.readTree(body(flows));
            assertEquals(2, f.get("total").asInt());
            assertEquals(1, f.get("flows").size());
            assertEquals(42, f.get("evictedFlows").asLong());
            assertEquals(3, f.get("socketStorageFailedFlows").asLong());
            assertEquals(300, f.get("flows").get(0).get("bytesSent").asLong(), "largest first");
            HttpURLConnection bad = get(server.base() + "/api/flows?sort=nonsense", null);
            assertEquals(400, bad.getResponseCode());
            assertTrue(JSON.readTree(body(bad)).get("error").asText().startsWith("sort=nonsense is not one of [bytesReceived, bytesSent"));
            assertEquals(400, get(server.base() + "/api/flows?limit=0", null).getResponseCode());
            assertEquals(404, get(server.base() + "/api/nothing", null).getResponseCode());
            assertEquals(200, get(server.base() + "/api/probes", null).getResponseCode());
            assertEquals("[]", body(get(server.base() + "/api/sinks", null)));
            assertEquals("{}", body(get(server.base() + "/api/latency", null)));
        }
    }

    @Test
    void basicAuthenticationGuardsEveryUrlWhenARealmIsConfigured() throws Exception {
        Routes.Authenticator auth = (user, password) -> user.equals("karaf") && password.equals("s3cret:x");
        try (TestHttpServer server = new TestHttpServer(routes(new EventStream(), auth))) {
            for (String path : new String[] {"/", "/api/flows", "/metrics", "/api/events"}) {
                HttpURLConnection none = get(server.base() + path, null);
                assertEquals(401, none.getResponseCode(), path);
                assertTrue(none.getHeaderField("WWW-Authenticate").startsWith("Basic realm=\"microbpf\""));
                assertEquals(401, get(server.base() + path, "karaf:wrong").getResponseCode(), path);
            }
            assertEquals(200, get(server.base() + "/metrics", "karaf:s3cret:x").getResponseCode());
        }
    }

    @Test
    void theEventStreamSendsOnlyTheRequestedTypesAsServerSentEvents() throws Exception {
        EventStream stream = new EventStream();
        try (TestHttpServer server = new TestHttpServer(routes(stream, null))) {
            assertTrue(!stream.accepts("a.x"), "no client: the sink takes nothing");
            HttpURLConnection c = get(server.base() + "/api/events?types=a.x,c.z&limit=4", null);
            c.connect();
            assertEquals(200, c.getResponseCode());
            assertEquals("text/event-stream; charset=utf-8", c.getContentType());
            long deadline = System.currentTimeMillis() + 5000;
            while (stream.clients() == 0 && System.currentTimeMillis() < deadline) {
                Thread.sleep(10);
            }
            assertTrue(stream.accepts("a.x") && stream.accepts("c.z") && !stream.accepts("b.y"));
            List<Event> batch = new ArrayList<>();
            for (int i = 0; i < 6; i++) {
                batch.add(new Ev(i % 3 == 0 ? "a.x" : i % 3 == 1 ? "b.y" : "c.z", i, i, i));
            }
            stream.deliver(batch);
            List<String> events = new ArrayList<>();
            List<JsonNode> data = new ArrayList<>();
            try (BufferedReader r = new BufferedReader(new InputStreamReader(c.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = r.readLine()) != null) {
                    if (line.startsWith("event: ")) {
                        events.add(line.substring(7));
                    } else if (line.startsWith("data: ")) {
                        data.add(JSON.readTree(line.substring(6)));
                    }
                }
            }
            assertEquals(List.of("a.x", "c.z", "a.x", "c.z"), events);
            assertEquals(List.of(0L, 2L, 3L, 5L), data.stream().map(d -> d.get("seq").asLong()).toList());
            deadline = System.currentTimeMillis() + 5000;
            while (stream.clients() > 0 && System.currentTimeMillis() < deadline) {
                Thread.sleep(10);
            }
            assertEquals(0, stream.clients(), "a finished client is disconnected");
        }
    }
}
