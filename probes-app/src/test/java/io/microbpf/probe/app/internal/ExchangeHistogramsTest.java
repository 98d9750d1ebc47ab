package io.microbpf.probe.app.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.microbpf.api.latency.LatencySummary;
import io.microbpf.probe.app.AppExchangeEvent;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ExchangeHistogramsTest {
    static AppExchangeEvent server(int port, int clientPort, long queue, long think, long send) {
        return new AppExchangeEvent("server", "ANSWERED", 4, "10.0.0.2", port, "10.0.0.1", clientPort, 1, 7, "srv", 99, 1,
                1000, 100, queue, think, send, -1, 5, 6);
    }

    static AppExchangeEvent client(int port, long send, long request) {
        return new AppExchangeEvent("client", "ANSWERED", 6, "fd00::1", 40000, "fd00::2", port, 1, 8, "cli", 98, 1,
                1000, 100, -1, -1, send, request, 5, 6);
    }

    @Test
    void oneSeriesPerRoleServicePortAndPhaseInDisplayOrder() {
        ExchangeHistograms h = new ExchangeHistograms(2);
        for (int i = 1; i <= 100; i++) {
            h.record(server(8080, 40000 + i % 3, 1000L * i, 20_000_000L + i, 5000));
        }
        h.record(server(443, 50000, 10, 20, 30));
        h.record(client(8080, 7000, 21_000_000));
        List<LatencySummary> s = h.portSummaries();
        assertEquals(List.of(Map.of("role", "server", "port", "443", "phase", "queue"),
                Map.of("role", "server", "port", "443", "phase", "think"), Map.of("role", "server", "port", "443", "phase", "send"),
                Map.of("role", "server", "port", "8080", "phase", "queue"), Map.of("role", "server", "port", "8080", "phase", "think"),
                Map.of("role", "server", "port", "8080", "phase", "send"), Map.of("role", "client", "port", "8080", "phase", "send"),
                Map.of("role", "client", "port", "8080", "phase", "request")), s.stream().map(LatencySummary::labels).toList());
        LatencySummary think = s.get(4);
        assertEquals(100, think.count());
        assertEquals(20_000_050, think.p50Ns(), 20_000_050 * 0.001); // HdrHistogram, 3 significant digits
        assertEquals(List.of("role", "port", "phase"), List.copyOf(think.labels().keySet()));
        // per flow: at most 2 flows kept, least recently updated dropped
        assertEquals(2, h.flowSummaries().stream().map(x -> x.labels().get("flow")).distinct().count());
        h.reset();
        assertEquals(List.of(), h.portSummaries());
    }

    @Test
    void decodesARecordIntoPhasesByRole() {
        ByteBuffer b = ByteBuffer.allocate(ExchangeLayout.SIZE).order(ByteOrder.nativeOrder());
        b.putLong(ExchangeLayout.TS_NS, 10_000);
        b.putLong(ExchangeLayout.REQ_FIRST_NS, 1_000);
        b.putLong(ExchangeLayout.REQ_LAST_NS, 2_000);
        b.putLong(ExchangeLayout.QUEUED_NS, 1_500);
        b.putLong(ExchangeLayout.RESP_WRITE_NS, 5_000);
        b.putLong(ExchangeLayout.SENT_NS, 5_100);
        b.putInt(ExchangeLayout.REQ_START_SEQ, 0xfffffff0); // wraps
        b.putInt(ExchangeLayout.REQ_END_SEQ, 0x10);
        b.putInt(ExchangeLayout.INDEX, 3);
        b.putShort(ExchangeLayout.FAMILY, (short) 2);
        b.put(ExchangeLayout.SADDR, new byte[] {10, 0, 0, 2});
        b.put(ExchangeLayout.DADDR, new byte[] {10, 0, 0, 1});
        b.putShort(ExchangeLayout.SPORT, (short) 8080);
        b.put(ExchangeLayout.ROLE, (byte) ExchangeLayout.ROLE_SERVER);
        b.put(ExchangeLayout.OUTCOME, (byte) 1);
        b.put(ExchangeLayout.COMM, "nginx".getBytes());
        AppExchangeEvent e = ExchangeLayout.decode(b, 0);
        assertEquals("server", e.role());
        assertEquals(32, e.requestBytes());
        assertEquals(500, e.queueNs());
        assertEquals(3_000, e.thinkNs());
        assertEquals(100, e.sendNs());
        assertEquals(-1, e.requestNs());
        assertEquals("10.0.0.2", e.localAddress());
        assertEquals("nginx", e.comm());
        assertEquals(8080, e.servicePort());
        b.put(ExchangeLayout.ROLE, (byte) ExchangeLayout.ROLE_CLIENT);
        b.putLong(ExchangeLayout.RESP_ARRIVAL_NS, 9_000);
        AppExchangeEvent c = ExchangeLayout.decode(b, 0);
        assertEquals(8_000, c.requestNs());
        assertEquals(4_100, c.sendNs());
        assertEquals(-1, c.thinkNs());
        b.put(ExchangeLayout.OUTCOME, (byte) 3);
        assertEquals(-1, ExchangeLayout.decode(b, 0).requestBytes(), "an unanswered client request has no known end");
    }
}
