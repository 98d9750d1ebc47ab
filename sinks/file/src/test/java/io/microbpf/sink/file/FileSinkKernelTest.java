package io.microbpf.sink.file;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.microbpf.api.Event;
import io.microbpf.api.EventPublisher;
import io.microbpf.api.ProbeState;
import io.microbpf.probe.ack.TcpConnectionEvent;
import io.microbpf.probe.ack.TcpFlowEvent;
import io.microbpf.probe.ack.internal.AckProbeComponent;
import io.microbpf.test.KernelTestSupport;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Real traffic through the real ack probe into the file sink: every event the probe published is in
 * the JSON Lines file, in order, and parses back to an equal record.
 */
class FileSinkKernelTest {
    @TempDir
    Path dir;

    @Test
    void eventsFromRealTrafficLandInJsonLinesThatParseBackToTheSameRecords() throws Exception {
        KernelTestSupport.requireKernel();
        List<Event> published = new ArrayList<>();
        FileSink sink = new FileSink(new FileSink.Settings(dir, "events", 0, 0, 0, false, "rotate", 1000, Set.of()));
        EventPublisher tee = batch -> {
            synchronized (published) {
                published.addAll(batch);
                try {
                    sink.deliver(batch);
                } catch (Exception e) {
                    throw new AssertionError(e);
                }
            }
        };
        AckProbeComponent probe = new AckProbeComponent();
        probe.setPublisher(tee);
        List<Integer> ports = new ArrayList<>();
        try {
            probe.activate(Map.of("snapshot.interval.ms", "200"));
            assertEquals(ProbeState.RUNNING, probe.state(), probe.problem());
            try (ServerSocket server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
                ports.add(server.getLocalPort());
                for (int i = 0; i < 5; i++) {
                    Thread t = new Thread(() -> {
                        try (Socket s = server.accept(); InputStream in = s.getInputStream(); OutputStream out = s.getOutputStream()) {
                            in.readNBytes(100_000);
                            Thread.sleep(300); // lets a flow snapshot see the connection alive
                            out.write(new byte[7_000]);
                        } catch (Exception e) {
                            throw new RuntimeException(e);
                        }
                    });
                    t.start();
                    try (Socket c = new Socket(server.getInetAddress(), server.getLocalPort())) {
                        c.getOutputStream().write(new byte[100_000]);
                        c.getInputStream().readNBytes(7_000);
                    }
                    t.join();
                }
            }
            long deadline = System.currentTimeMillis() + 10_000;
            while (System.currentTimeMillis() < deadline && ours(published, ports.get(0), TcpConnectionEvent.class) < 20) {
                Thread.sleep(50);
            }
        } finally {
            probe.deactivate();
            sink.close();
        }
        List<Event> back = new ArrayList<>();
        for (String line : Files.readAllLines(dir.resolve("events.jsonl"))) {
            JsonNode node = FileSinkTest.JSON.readTree(line);
            Class<? extends Event> type = switch (node.get("type").asText()) {
                case TcpConnectionEvent.TYPE -> TcpConnectionEvent.class;
                case TcpFlowEvent.TYPE -> TcpFlowEvent.class;
                default -> throw new AssertionError("unexpected type in " + line);
            };
            back.add(FileSinkTest.JSON.treeToValue(node, type));
        }
        synchronized (published) {
            assertEquals(published, back, "the file holds exactly the published events, in order, equal after parsing");
        }
        assertEquals(20, ours(back, ports.get(0), TcpConnectionEvent.class), "5 connections x (open + close) x 2 ends");
        assertTrue(ours(back, ports.get(0), TcpFlowEvent.class) >= 5, "flow records (snapshots and finals) of our connections");
        long closeBytes = back.stream().filter(e -> e instanceof TcpConnectionEvent c && c.localPort() == ports.get(0)
                && c.kind().equals("CLOSE")).mapToLong(e -> ((TcpConnectionEvent) e).bytesReceived()).sum();
        assertEquals(5 * 100_000, closeBytes, "the server ends received exactly what the clients sent");
        System.out.println("file sink kernel test: " + back.size() + " events in the file");
    }

    private static long ours(List<Event> events, int port, Class<?> type) {
        synchronized (events) {
            return events.stream().filter(type::isInstance).filter(e -> e instanceof TcpConnectionEvent c
                    ? c.localPort() == port || c.remotePort() == port
                    : ((TcpFlowEvent) e).localPort() == port || ((TcpFlowEvent) e).remotePort() == port).count();
        }
    }
}
