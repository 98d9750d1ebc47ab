package io.microbpf.probe.ack.internal.shell;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.microbpf.probe.ack.FlowTable;
import io.microbpf.probe.ack.TcpFlowEvent;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.util.List;
import org.junit.jupiter.api.Test;

class FlowCommandsTest {
    private static TcpFlowEvent flow(long cookie, int localPort, long sent, long cwnd, String addr) {
        return new TcpFlowEvent("SNAPSHOT", 4, addr, localPort, "10.0.0.9", 80, 1, cookie, 7, "curl", 3, 65535, 65535, cwnd,
                1448, 2, sent, 10, 1, 0, 0, 0, 4, 400, 100, 10, 1, sent, 2, 9, 5_000_000, "Open", 1, 2);
    }

    private static final List<TcpFlowEvent> FLOWS = List.of(flow(11, 5001, 300, 10, "10.0.0.1"), flow(12, 5002, 100, 40, "10.0.0.2"),
            flow(13, 5003, 200, 20, "10.0.0.1"));

    private static final FlowTable TABLE = new FlowTable() {
        public List<TcpFlowEvent> flows() {
            return FLOWS;
        }

        public long evictedFlows() {
            return 4;
        }

        public long socketStorageFailedFlows() {
            return 2;
        }
    };

    @Test
    void sortsByAnyMetricLimitsAndFilters() {
        assertEquals(List.of(11L, 13L, 12L), FlowQuery.select(FLOWS, "bytesSent", false, 10, 0, null).stream().map(TcpFlowEvent::socketCookie).toList());
        assertEquals(List.of(12L, 13L), FlowQuery.select(FLOWS, "cwndPackets", false, 2, 0, null).stream().map(TcpFlowEvent::socketCookie).toList());
        assertEquals(List.of(12L, 13L, 11L), FlowQuery.select(FLOWS, "bytesSent", true, 10, 0, null).stream().map(TcpFlowEvent::socketCookie).toList());
        assertEquals(List.of(13L), FlowQuery.select(FLOWS, "bytesSent", false, 10, 5003, null).stream().map(TcpFlowEvent::socketCookie).toList());
        assertEquals(List.of(11L, 13L), FlowQuery.select(FLOWS, "bytesSent", false, 10, 0, "10.0.0.1").stream().map(TcpFlowEvent::socketCookie).toList());
        assertEquals(3, FlowQuery.select(FLOWS, "bytesSent", false, 10, 80, null).size(), "remote port matches too");
    }

    @Test
    void badArgumentsAreOneClearMessage() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> FlowQuery.select(FLOWS, "speed", false, 10, 0, null));
        assertTrue(e.getMessage().startsWith("unknown metric 'speed'; sort by one of: kind, family, localAddress"), e.getMessage());
        assertEquals("--limit must be at least 1, got 0", assertThrows(IllegalArgumentException.class,
                () -> FlowQuery.select(FLOWS, "bytesSent", false, 0, 0, null)).getMessage());
        FlowCommand one = new FlowCommand();
        one.table = TABLE;
        one.id = "x1";
        assertEquals("flow id must be a number (the ID column of microbpf:flows), got 'x1'",
                assertThrows(IllegalArgumentException.class, one::execute).getMessage());
        one.id = "99";
        assertEquals("no live flow 99 (it may have closed; see microbpf:flows)",
                assertThrows(IllegalArgumentException.class, one::execute).getMessage());
    }

    @Test
    void tablesAndDetailPrint() {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        FlowsCommand list = new FlowsCommand();
        list.table = TABLE;
        list.out = new PrintStream(bytes, true);
        list.limit = 2;
        list.execute();
        String text = bytes.toString();
        assertTrue(text.contains("10.0.0.1:5001") && text.contains("10.0.0.1:5003") && !text.contains("10.0.0.2:5002"), text);
        assertTrue(text.contains("2 of 3 live flows, sorted by bytesSent; 4 evicted from the in-kernel map since start; "
                + "2 without ACK/read/write/RTT counts (socket storage not created)"), text);
        bytes.reset();
        FlowCommand one = new FlowCommand();
        one.table = TABLE;
        one.out = new PrintStream(bytes, true);
        one.id = "12";
        one.execute();
        assertTrue(bytes.toString().contains("cwndPackets            40") && bytes.toString().contains("meanRttUs              100.0"), bytes.toString());
    }
}
