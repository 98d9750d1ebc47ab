package io.microbpf.probe.app.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.microbpf.api.HookReport;
import io.microbpf.api.ProbeState;
import io.microbpf.probe.app.AppExchangeEvent;
import io.microbpf.test.CapturingPublisher;
import io.microbpf.test.KernelResources;
import io.microbpf.test.KernelTestSupport;
import java.io.DataInputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Hook report, live configuration, sampling and clean release of every kernel object, mmap and thread. */
class AppProbeLifecycleKernelTest {
    /** n request/response exchanges over loopback on one connection; returns the client's port. */
    private static int exchanges(int n) throws Exception {
        try (ServerSocket server = new ServerSocket(0, 5, InetAddress.getLoopbackAddress());
                Socket c = new Socket(InetAddress.getLoopbackAddress(), server.getLocalPort());
                Socket s = server.accept()) {
            for (int i = 0; i < n; i++) {
                c.getOutputStream().write(new byte[10]);
                new DataInputStream(s.getInputStream()).readFully(new byte[10]);
                s.getOutputStream().write(new byte[20]);
                new DataInputStream(c.getInputStream()).readFully(new byte[20]);
            }
            return c.getLocalPort();
        }
    }

    @Test
    void everyAttachPointReportsItsHookAndTheFentryRejection() {
        KernelTestSupport.requireKernel();
        AppProbeComponent probe = new AppProbeComponent();
        probe.setPublisher(new CapturingPublisher());
        try {
            probe.activate(Map.of());
            assertEquals(ProbeState.RUNNING, probe.state(), probe.problem());
            List<HookReport> hooks = probe.hooks();
            assertEquals(List.of("tcp-state-change", "data-queued", "app-read", "app-write", "segment-out"),
                    hooks.stream().map(HookReport::attachPoint).toList());
            for (HookReport h : hooks) {
                assertTrue(h.chosen() != null, h.toString());
                System.out.println(h.attachPoint() + " -> " + h.chosen() + (h.rejected().isEmpty() ? "" : " (rejected " + h.rejected() + ")"));
                // where fentry loads, it is chosen; where it does not, the rejection says why
                assertTrue(h.chosen().startsWith("fentry/") || h.rejected().stream().anyMatch(r -> r.startsWith("fentry/")),
                        h.toString());
            }
        } finally {
            probe.deactivate();
        }
    }

    @Test
    void badConfigKeepsItRunningSamplingAppliesLiveAndStopReleasesEverything() throws Exception {
        KernelTestSupport.requireKernel();
        KernelResources before = KernelResources.snapshot("microbpf-probe-");
        CapturingPublisher publisher = new CapturingPublisher();
        AppProbeComponent probe = new AppProbeComponent();
        probe.setPublisher(publisher);
        try {
            probe.activate(Map.of());
            assertEquals(ProbeState.RUNNING, probe.state(), probe.problem());
            KernelResources running = KernelResources.snapshot("microbpf-probe-");
            assertTrue(running.progFds() > before.progFds() && running.mapFds() > before.mapFds()
                    && running.linkFds() > before.linkFds() && running.bpfMappings() >= before.bpfMappings() + 2
                    && running.threads() == before.threads() + 1, before + " -> " + running);

            probe.applyConfig(Map.of("record.sample.every", "-1", "filter.ports", "80,x", "exchange.timeout.ms", "5"));
            assertEquals(ProbeState.RUNNING, probe.state());
            assertEquals("invalid configuration io.microbpf.probe.app: filter.ports: x is not a port (1..65535); "
                    + "exchange.timeout.ms=5 is outside 100..86400000; record.sample.every=-1 is outside 0..1000000"
                    + " (keeping the previous configuration)", probe.problem());
            int port = exchanges(5);
            assertEquals(5, publisher.await(AppExchangeEvent.class,
                    e -> e.localPort() == port && e.answered(), 5, 10_000).size(), "exchanges keep flowing after a rejected configuration");

            probe.applyConfig(Map.of("enabled", "false"));
            assertEquals(ProbeState.STOPPED, probe.state());
            assertEquals(before, KernelResources.snapshot("microbpf-probe-"), "disabled probe holds nothing");

            probe.applyConfig(Map.of("enabled", "true", "record.sample.every", "10", "max.pending.exchanges", "256"));
            assertEquals(ProbeState.RUNNING, probe.state(), probe.problem());
            assertNull(probe.problem());
            long answeredBefore = probe.counts().answered();
            int port2 = exchanges(100);
            long deadline = System.currentTimeMillis() + 10_000;
            while (probe.counts().answered() < answeredBefore + 200 && System.currentTimeMillis() < deadline) {
                Thread.sleep(50);
            }
            assertTrue(probe.counts().answered() >= answeredBefore + 200, "both sides counted: " + probe.counts());
            Thread.sleep(200);
            List<AppExchangeEvent> sampled = publisher.await(AppExchangeEvent.class,
                    e -> (e.localPort() == port2 || e.remotePort() == port2) && e.answered(), 0, 0);
            assertTrue(sampled.size() >= 18 && sampled.size() <= 22, "1 in 10 of 200 published, got " + sampled.size());
        } finally {
            probe.deactivate();
        }
        assertEquals(ProbeState.STOPPED, probe.state());
        assertEquals(before, KernelResources.snapshot("microbpf-probe-"), "stopped probe holds nothing");
    }
}
