package io.microbpf.probe.ack.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.microbpf.api.Event;
import io.microbpf.api.ProbeState;
import io.microbpf.probe.ack.TcpConnectionEvent;
import io.microbpf.probe.ack.TcpFlowEvent;
import io.microbpf.test.CapturingPublisher;
import io.microbpf.test.KernelTestSupport;
import io.microbpf.test.NetNs;
import io.microbpf.test.RawTcp;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * 10 000 short connections through the in-kernel port filter, with the flow map bounded to 1024:
 * every connection is reported exactly once per side, nothing outside the filter is, and the map
 * never holds more than its bound.
 */
class FlowScaleKernelTest {
    private static final int CONNECTIONS = 10_000;
    private static final int OUTSIDE = 200;
    private static final int BOUND = 1024;

    @Test
    void tenThousandShortConnectionsNoneLostOrDuplicatedNothingOutsideTheFilter() throws Exception {
        KernelTestSupport.requireKernel();
        String tag = Long.toString(ProcessHandle.current().pid());
        CapturingPublisher publisher = new CapturingPublisher();
        AckProbeComponent probe = new AckProbeComponent();
        probe.setPublisher(publisher);
        try (NetNs a = NetNs.create("mbpf-s" + tag + "-a"); NetNs b = NetNs.create("mbpf-s" + tag + "-b")) {
            NetNs.link(a, "10.200.3.1/24", b, "10.200.3.2/24");
            int inside = b.submit(() -> RawTcp.listen("10.200.3.2", 0)).get();
            int outside = b.submit(() -> RawTcp.listen("10.200.3.2", 0)).get();
            int port = RawTcp.localPort(inside);
            int otherPort = RawTcp.localPort(outside);
            probe.activate(Map.of("filter.ports", Integer.toString(port), "max.tracked.connections", Integer.toString(BOUND),
                    "snapshot.interval.ms", "100", "ringbuf.bytes", Integer.toString(16 << 20)));
            assertEquals(ProbeState.RUNNING, probe.state(), probe.problem());

            // at most 100 connections between connect() and the server's close(): the flows alive at
            // once stay far below the bound, so none may be evicted and every one must be reported
            java.util.concurrent.Semaphore outstanding = new java.util.concurrent.Semaphore(100);
            Future<?> server = b.submit(() -> {
                for (int i = 0; i < CONNECTIONS; i++) {
                    int fd = RawTcp.accept(inside);
                    RawTcp.drainToEof(fd);
                    RawTcp.close(fd);
                    outstanding.release();
                }
                for (int i = 0; i < OUTSIDE; i++) {
                    int fd = RawTcp.accept(outside);
                    RawTcp.drainToEof(fd);
                    RawTcp.close(fd);
                }
                return null;
            });
            Set<Integer> clientPorts = a.submit(() -> {
                Set<Integer> ports = new HashSet<>();
                for (int i = 0; i < CONNECTIONS; i++) {
                    outstanding.acquire();
                    int fd = RawTcp.connect("10.200.3.2", port);
                    ports.add(RawTcp.localPort(fd));
                    RawTcp.sendAll(fd, 100, 100);
                    RawTcp.close(fd);
                }
                for (int i = 0; i < OUTSIDE; i++) {
                    int fd = RawTcp.connect("10.200.3.2", otherPort);
                    RawTcp.sendAll(fd, 100, 100);
                    RawTcp.close(fd);
                }
                return ports;
            }).get(180, TimeUnit.SECONDS);
            server.get(60, TimeUnit.SECONDS);
            RawTcp.close(inside);
            RawTcp.close(outside);

            List<TcpFlowEvent> finals = publisher.await(TcpFlowEvent.class, e -> e.kind().equals("FINAL"), 2 * CONNECTIONS, 30_000);
            Thread.sleep(500); // anything late (a duplicate) would arrive now
            List<Event> all = publisher.events();
            assertEquals(0, probe.lost(), "ring buffer losses");

            Map<Long, Integer> finalsPerCookie = new HashMap<>();
            int serverSide = 0;
            int clientSide = 0;
            for (Event e : all) {
                if (e instanceof TcpFlowEvent f && f.kind().equals("FINAL")) {
                    finalsPerCookie.merge(f.socketCookie(), 1, Integer::sum);
                    if (f.localPort() == port) {
                        serverSide++;
                        assertEquals(100, f.bytesReceived(), f.toString());
                    } else {
                        clientSide++;
                        assertEquals(port, f.remotePort(), "outside the filter: " + f);
                        assertTrue(clientPorts.contains(f.localPort()), f.toString());
                        assertEquals(100, f.bytesSent(), f.toString());
                    }
                }
                if (e instanceof TcpFlowEvent f) {
                    assertTrue(f.localPort() == port || f.remotePort() == port, "outside the filter: " + f);
                }
                if (e instanceof TcpConnectionEvent c) {
                    assertTrue(c.localPort() == port || c.remotePort() == port, "outside the filter: " + c);
                }
            }
            assertEquals(CONNECTIONS, serverSide, "server-side FINAL records");
            assertEquals(CONNECTIONS, clientSide, "client-side FINAL records");
            assertEquals(2 * CONNECTIONS, finalsPerCookie.size(), "distinct flows");
            assertTrue(finalsPerCookie.values().stream().allMatch(n -> n == 1), "no flow reported twice");
            assertEquals(2 * CONNECTIONS, finals.size());

            // the map's bound: no snapshot ever listed more live flows than max.tracked.connections
            Map<Long, Integer> perSnapshot = new HashMap<>();
            for (Event e : all) {
                if (e instanceof TcpFlowEvent f && f.kind().equals("SNAPSHOT")) {
                    perSnapshot.merge(f.monotonicNs(), 1, Integer::sum);
                }
            }
            int largest = perSnapshot.values().stream().mapToInt(Integer::intValue).max().orElse(0);
            System.out.println("scale: " + finals.size() + " FINAL records, " + perSnapshot.size()
                    + " snapshots, largest " + largest + " flows, evicted " + probe.evictedFlows());
            assertTrue(largest <= BOUND, "largest snapshot " + largest);
            assertEquals(0, probe.evictedFlows(), "sequential short connections never fill the map");
        } finally {
            probe.deactivate();
        }
    }

    @Test
    void moreConcurrentFlowsThanTheBoundAreEvictedAndCounted() throws Exception {
        KernelTestSupport.requireKernel();
        int bound = 128;
        int held = 300; // 600 flows (both ends) against a bound of 128
        String tag = Long.toString(ProcessHandle.current().pid());
        CapturingPublisher publisher = new CapturingPublisher();
        AckProbeComponent probe = new AckProbeComponent();
        probe.setPublisher(publisher);
        try (NetNs a = NetNs.create("mbpf-e" + tag + "-a"); NetNs b = NetNs.create("mbpf-e" + tag + "-b")) {
            NetNs.link(a, "10.200.4.1/24", b, "10.200.4.2/24");
            int listen = b.submit(() -> RawTcp.listen("10.200.4.2", 0)).get();
            int port = RawTcp.localPort(listen);
            probe.activate(Map.of("filter.ports", Integer.toString(port), "max.tracked.connections", Integer.toString(bound),
                    "snapshot.interval.ms", "100"));
            assertEquals(ProbeState.RUNNING, probe.state(), probe.problem());
            int[] clients = new int[held];
            int[] servers = new int[held];
            for (int i = 0; i < held; i++) {
                Future<Integer> acc = b.submit(() -> RawTcp.accept(listen));
                final int idx = i;
                clients[idx] = a.submit(() -> RawTcp.connect("10.200.4.2", port)).get(10, TimeUnit.SECONDS);
                servers[idx] = acc.get(10, TimeUnit.SECONDS);
            }
            long deadline = System.currentTimeMillis() + 10_000;
            long[] le = probe.liveAndEvicted();
            while (le[0] + le[1] < 2L * held && System.currentTimeMillis() < deadline) { // handshakes still landing
                Thread.sleep(100);
                le = probe.liveAndEvicted();
            }
            long live = le[0];
            long evicted = le[1];
            System.out.println("eviction: " + 2 * held + " flows, bound " + bound + ", live " + live + ", evicted " + evicted);
            assertTrue(live <= bound, "live flows " + live);
            assertEquals(2L * held - live, evicted, "every flow that is not live was evicted and counted");
            for (int i = 0; i < held; i++) {
                RawTcp.close(clients[i]);
                RawTcp.close(servers[i]);
            }
            RawTcp.close(listen);
        } finally {
            probe.deactivate();
        }
    }
}
