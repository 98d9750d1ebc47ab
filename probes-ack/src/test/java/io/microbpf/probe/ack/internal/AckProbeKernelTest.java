package io.microbpf.probe.ack.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.microbpf.api.ProbeState;
import io.microbpf.probe.ack.TcpConnectionEvent;
import io.microbpf.test.CapturingPublisher;
import io.microbpf.test.KernelTestSupport;
import io.microbpf.test.NetNs;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The ack probe against the real kernel: the test opens TCP connections, moves a known number of
 * bytes each way, closes them, and checks each connection is reported once opened and once closed
 * with the right endpoints and exactly the bytes moved.
 */
class AckProbeKernelTest {
    private final CapturingPublisher publisher = new CapturingPublisher();
    private AckProbeComponent probe;

    @BeforeEach
    void start() {
        KernelTestSupport.requireKernel();
        probe = new AckProbeComponent();
        probe.setPublisher(publisher);
        probe.activate(Map.of());
        assertEquals(ProbeState.RUNNING, probe.state(), "probe did not start: " + probe.problem());
        System.out.println("ack probe hooks: " + probe.hooks());
    }

    @AfterEach
    void stop() {
        if (probe != null) {
            probe.deactivate();
        }
    }

    /** One exchange: the client sends {@code up} bytes, the server answers {@code down} bytes, both close. */
    record Exchange(int clientPort, int serverPort, long up, long down) {}

    private static void writeN(OutputStream out, long n) throws IOException {
        byte[] chunk = new byte[8192];
        for (long left = n; left > 0; left -= Math.min(left, chunk.length)) {
            out.write(chunk, 0, (int) Math.min(left, chunk.length));
        }
        out.flush();
    }

    private static void readN(InputStream in, long n) throws IOException {
        new DataInputStream(in).readFully(new byte[(int) n]);
    }

    /** Server side of one exchange on an accepted socket: read up, send down, wait for the client's FIN, close. */
    private static void serve(ServerSocket server, long up, long down) throws IOException {
        try (Socket s = server.accept()) {
            readN(s.getInputStream(), up);
            writeN(s.getOutputStream(), down);
            assertEquals(-1, s.getInputStream().read(), "client closes after reading");
        }
    }

    /** Client side: connect, send up, read down, close. Returns the client's local port. */
    private static int client(InetSocketAddress target, long up, long down) throws IOException {
        try (Socket c = new Socket()) {
            c.connect(target, 5000);
            writeN(c.getOutputStream(), up);
            readN(c.getInputStream(), down);
            return c.getLocalPort();
        }
    }

    private void assertReported(Exchange x, String clientAddr, String serverAddr, long clientNetns, long serverNetns)
            throws InterruptedException {
        List<TcpConnectionEvent> client = publisher.await(TcpConnectionEvent.class,
                e -> e.localPort() == x.clientPort() && e.remotePort() == x.serverPort(), 2, 10_000);
        List<TcpConnectionEvent> server = publisher.await(TcpConnectionEvent.class,
                e -> e.localPort() == x.serverPort() && e.remotePort() == x.clientPort(), 2, 10_000);
        if (client.size() != 2 || server.size() != 2) { publisher.events().forEach(System.out::println); }
        assertEquals(List.of("OPEN_ACTIVE", "CLOSE"), client.stream().map(TcpConnectionEvent::kind).toList(), client.toString());
        assertEquals(List.of("OPEN_PASSIVE", "CLOSE"), server.stream().map(TcpConnectionEvent::kind).toList(), server.toString());
        int family = clientAddr.indexOf(':') >= 0 ? 6 : 4;
        for (TcpConnectionEvent e : client) {
            assertEquals(family, e.family(), e.toString());
            assertEquals(clientAddr, e.localAddress(), e.toString());
            assertEquals(serverAddr, e.remoteAddress(), e.toString());
            assertEquals(clientNetns, e.netnsInode(), e.toString());
            assertEquals(ProcessHandle.current().pid(), e.pid(), "connect() was called by this process: " + e);
        }
        for (TcpConnectionEvent e : server) {
            assertEquals(family, e.family(), e.toString());
            assertEquals(serverAddr, e.localAddress(), e.toString());
            assertEquals(clientAddr, e.remoteAddress(), e.toString());
            assertEquals(serverNetns, e.netnsInode(), e.toString());
        }
        TcpConnectionEvent cc = client.get(1);
        TcpConnectionEvent sc = server.get(1);
        assertEquals(x.up(), cc.bytesSent(), "client sent: " + cc);
        assertEquals(x.down(), cc.bytesReceived(), "client received: " + cc);
        assertEquals(x.down(), sc.bytesSent(), "server sent: " + sc);
        assertEquals(x.up(), sc.bytesReceived(), "server received: " + sc);
        assertEquals(ProcessHandle.current().pid(), sc.pid(), "close() by this process names it: " + sc);
        assertTrue(cc.durationNs() > 0 && sc.durationNs() > 0, cc + " / " + sc);
        assertTrue(cc.socketCookie() != 0 && cc.socketCookie() != sc.socketCookie() || cc.hook().startsWith("tracepoint/"));
        assertTrue(Math.abs(cc.wallClockNs() / 1_000_000 - System.currentTimeMillis()) < 60_000, "wall clock: " + cc);
    }

    private long loopbackNetns() throws IOException {
        return ((Number) Files.getAttribute(Path.of("/proc/self/ns/net"), "unix:ino")).longValue();
    }

    @Test
    void loopbackConnectionsIPv4AndIPv6AreReportedOnceOpenedAndOnceClosedWithExactBytes() throws Exception {
        long[][] sizes = {{1, 0}, {1000, 70_000}, {3_000_000, 12_345}};
        for (String host : new String[] {"127.0.0.1", "::1"}) {
            InetAddress addr = InetAddress.getByName(host);
            List<Exchange> done = new ArrayList<>();
            try (ServerSocket server = new ServerSocket(0, 50, addr)) {
                for (long[] s : sizes) {
                    Thread t = new Thread(() -> {
                        try {
                            serve(server, s[0], s[1]);
                        } catch (IOException e) {
                            throw new RuntimeException(e);
                        }
                    });
                    t.start();
                    int port = client(new InetSocketAddress(addr, server.getLocalPort()), s[0], s[1]);
                    t.join(10_000);
                    done.add(new Exchange(port, server.getLocalPort(), s[0], s[1]));
                }
            }
            String text = addr.getHostAddress();
            for (Exchange x : done) {
                assertReported(x, text, text, loopbackNetns(), loopbackNetns());
            }
        }
        assertEquals(0, probe.lost());
    }

    @Test
    void connectionsBetweenTwoNamespacesOverVethCarryTheirNamespaceAndExactBytes() throws Exception {
        String tag = Long.toString(ProcessHandle.current().pid());
        try (NetNs a = NetNs.create("mbpf-" + tag + "-a"); NetNs b = NetNs.create("mbpf-" + tag + "-b")) {
            NetNs.link(a, "10.200.1.1/24", b, "10.200.1.2/24");
            ServerSocket server = b.submit(() -> new ServerSocket(0, 50, InetAddress.getByName("10.200.1.2"))).get();
            InetSocketAddress target = new InetSocketAddress("10.200.1.2", server.getLocalPort());
            long[][] sizes = {{10, 20}, {250_000, 1_500_000}};
            List<Exchange> done = new ArrayList<>();
            for (long[] s : sizes) {
                Future<?> srv = b.submit(() -> {
                    serve(server, s[0], s[1]);
                    return null;
                });
                int port = a.submit(() -> client(target, s[0], s[1])).get(20, TimeUnit.SECONDS);
                srv.get(20, TimeUnit.SECONDS);
                done.add(new Exchange(port, server.getLocalPort(), s[0], s[1]));
            }
            server.close();
            for (Exchange x : done) {
                assertReported(x, "10.200.1.1", "10.200.1.2", a.inode(), b.inode());
            }
        }
    }
}
