package io.microbpf.probe.ack.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.microbpf.api.ProbeState;
import io.microbpf.probe.ack.TcpConnectionEvent;
import io.microbpf.test.CapturingPublisher;
import io.microbpf.test.KernelResources;
import io.microbpf.test.KernelTestSupport;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Live configuration and clean release of every kernel object, mmap and thread. */
class AckProbeLifecycleKernelTest {
    private static int connectOnce() throws Exception {
        try (ServerSocket server = new ServerSocket(0, 5, InetAddress.getLoopbackAddress());
                Socket c = new Socket(InetAddress.getLoopbackAddress(), server.getLocalPort());
                Socket s = server.accept()) {
            return c.getLocalPort();
        }
    }

    @Test
    void badConfigKeepsItRunningStopReleasesEverythingAndGoodConfigRestartsIt() throws Exception {
        KernelTestSupport.requireKernel();
        KernelResources before = KernelResources.snapshot("microbpf-probe-");
        CapturingPublisher publisher = new CapturingPublisher();
        AckProbeComponent probe = new AckProbeComponent();
        probe.setPublisher(publisher);
        try {
            probe.activate(Map.of());
            assertEquals(ProbeState.RUNNING, probe.state(), probe.problem());
            KernelResources running = KernelResources.snapshot("microbpf-probe-");
            assertTrue(running.progFds() > before.progFds() && running.mapFds() > before.mapFds()
                    && running.linkFds() > before.linkFds() && running.bpfMappings() >= before.bpfMappings() + 2
                    && running.threads() == before.threads() + 1, before + " -> " + running);

            probe.applyConfig(Map.of("ringbuf.bytes", "5000", "max.tracked.connectoins", "10"));
            assertEquals(ProbeState.RUNNING, probe.state());
            assertEquals("invalid configuration io.microbpf.probe.ack: ringbuf.bytes=5000 is not a power of two; "
                    + "unknown key max.tracked.connectoins (keeping the previous configuration)", probe.problem());
            int port = connectOnce();
            assertEquals(2, publisher.await(TcpConnectionEvent.class, e -> e.localPort() == port, 2, 10_000).size(),
                    "events keep flowing after a rejected configuration");

            probe.applyConfig(Map.of("enabled", "false"));
            assertEquals(ProbeState.STOPPED, probe.state());
            assertEquals(before, KernelResources.snapshot("microbpf-probe-"), "disabled probe holds nothing");

            probe.applyConfig(Map.of("enabled", "true", "ringbuf.bytes", "1048576", "max.tracked.connections", "2048"));
            assertEquals(ProbeState.RUNNING, probe.state(), probe.problem());
            assertNull(probe.problem());
            int port2 = connectOnce();
            assertEquals(2, publisher.await(TcpConnectionEvent.class, e -> e.localPort() == port2, 2, 10_000).size());
        } finally {
            probe.deactivate();
        }
        assertEquals(ProbeState.STOPPED, probe.state());
        assertEquals(before, KernelResources.snapshot("microbpf-probe-"), "stopped probe holds nothing");
    }
}
