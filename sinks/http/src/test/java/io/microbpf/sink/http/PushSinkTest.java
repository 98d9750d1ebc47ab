package io.microbpf.sink.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpServer;
import io.microbpf.api.Event;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentSkipListSet;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * Push mode against a receiving server that is down for 10 s and then comes back: every event
 * buffered within the bound arrives exactly once, and the drop counter accounts for the rest exactly.
 */
class PushSinkTest {
    record Tick(String type, long seq, long monotonicNs, long wallClockNs) implements Event {
        public String summary() {
            return "#" + seq;
        }
    }

    static final ObjectMapper JSON = new ObjectMapper();

    /** A receiver in the wire format: records every event's seq; checks agent, sentWallNs and type. */
    static final class Receiver implements AutoCloseable {
        final HttpServer server;
        final ConcurrentSkipListSet<Long> seqs;
        final AtomicLong duplicates;
        final AtomicLong batches = new AtomicLong();

        Receiver(int port, ConcurrentSkipListSet<Long> seqs, AtomicLong duplicates) throws Exception {
            this.seqs = seqs;
            this.duplicates = duplicates;
            server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 50);
            server.createContext("/ingest", http -> {
                JsonNode body = JSON.readTree(http.getRequestBody());
                boolean ok = "application/json".equals(http.getRequestHeaders().getFirst("Content-Type"))
                        && "test-agent".equals(body.get("agent").asText())
                        && Math.abs(body.get("sentWallNs").asLong() / 1_000_000 - System.currentTimeMillis()) < 60_000;
                for (JsonNode e : body.get("events")) {
                    ok &= "test.tick".equals(e.get("type").asText());
                    if (!seqs.add(e.get("seq").asLong())) {
                        duplicates.incrementAndGet();
                    }
                }
                batches.incrementAndGet();
                http.sendResponseHeaders(ok ? 200 : 400, -1);
                http.close();
            });
            server.start();
        }

        @Override
        public void close() {
            server.stop(0);
        }
    }

    static List<Event> ticks(long from, int n) {
        List<Event> b = new ArrayList<>();
        for (long i = from; i < from + n; i++) {
            b.add(new Tick("test.tick", i, i, i));
        }
        return b;
    }

    static void await(java.util.function.BooleanSupplier done, long ms) throws InterruptedException {
        long deadline = System.currentTimeMillis() + ms;
        while (!done.getAsBoolean() && System.currentTimeMillis() < deadline) {
            Thread.sleep(20);
        }
    }

    @Test
    void aRemoteDownForTenSecondsGetsEveryBufferedEventOnceAndTheRestAreCountedAsDropped() throws Exception {
        ConcurrentSkipListSet<Long> seqs = new ConcurrentSkipListSet<>();
        AtomicLong duplicates = new AtomicLong();
        Receiver first = null;
        int port = 0;
        for (int attempt = 0; first == null; attempt++) { // a free port of our range 22000-22999
            port = 22000 + java.util.concurrent.ThreadLocalRandom.current().nextInt(1000);
            try {
                first = new Receiver(port, seqs, duplicates);
            } catch (java.net.BindException e) {
                assertTrue(attempt < 50, "no free port in 22000-22999");
            }
        }
        int bufferMax = 300;
        PushSink.Settings settings = new PushSink.Settings(URI.create("http://127.0.0.1:" + port + "/ingest"), "test-agent",
                bufferMax, 50, 50, 1000, 2000, Set.of());
        try (PushSink sink = new PushSink(settings, JSON)) {
            long published = 0;
            try (Receiver up = first) {
                for (int i = 0; i < 10; i++) {
                    sink.deliver(ticks(published, 20));
                    published += 20;
                }
                await(() -> sink.sent() == 200, 10_000);
                assertEquals(200, sink.sent());
                assertNull(sink.problem());
            }
            // the remote is down for 10 s while 1000 more events arrive (20 every 200 ms)
            long downAt = System.currentTimeMillis();
            for (int i = 0; i < 50; i++) {
                sink.deliver(ticks(published, 20));
                published += 20;
                Thread.sleep(200);
            }
            assertNotNull(sink.problem(), "a remote that is down is reported");
            assertTrue(sink.problem().startsWith("push to http://127.0.0.1:" + port + "/ingest fails: "), sink.problem());
            assertTrue(sink.failedAttempts() > 3, "retried with backoff: " + sink.failedAttempts());
            assertTrue(System.currentTimeMillis() - downAt >= 10_000);
            try (Receiver back = new Receiver(port, seqs, duplicates)) {
                await(() -> sink.pending() == 0, 30_000);
                assertEquals(0, sink.pending());
                assertNull(sink.problem(), "the problem clears once the remote takes batches again");
            }
            long received = seqs.size();
            assertEquals(0, duplicates.get(), "no batch is delivered twice");
            assertEquals(sink.sent(), received);
            assertEquals(published, received + sink.dropped(), "published = received + dropped, exactly");
            long duringOutage = received - 200;
            assertTrue(duringOutage >= bufferMax && duringOutage <= bufferMax + 50,
                    "the buffer (" + bufferMax + ") plus at most the batch in flight (50) got through: " + duringOutage);
            // tail drop: what arrived from the outage is its first events, contiguous
            TreeSet<Long> expected = new TreeSet<>();
            for (long s = 0; s < 200 + duringOutage; s++) {
                expected.add(s);
            }
            assertEquals(expected, new TreeSet<>(seqs));
            System.out.println("push: published " + published + ", received " + received + ", dropped " + sink.dropped()
                    + ", failed attempts " + sink.failedAttempts() + ", batches " + sink.batchesSent());
        }
    }
}
