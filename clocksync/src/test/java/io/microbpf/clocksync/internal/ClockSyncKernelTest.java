package io.microbpf.clocksync.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.microbpf.clocksync.PeerClock;
import io.microbpf.test.KernelTestSupport;
import io.microbpf.test.NetNs;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Two agents' clock sync over a real veth pair between two network namespaces. They share the
 * machine's clock, so the true offset between them is exactly the offset injected into one of them;
 * the test checks the estimate lies within its own error bound of that truth, from both sides.
 */
class ClockSyncKernelTest {
    @Test
    void recoversAnInjectedOffsetOfSeveralSecondsWithinItsErrorBound() throws Exception {
        KernelTestSupport.requireKernel(); // root for the namespaces
        long injected = 4_321_987_654L;
        try (NetNs a = NetNs.create("nl-cs-a"); NetNs b = NetNs.create("nl-cs-b")) {
            NetNs.link(a, "10.240.40.1/24", b, "10.240.40.2/24");
            ClockSyncComponent ca = new ClockSyncComponent();
            ClockSyncComponent cb = new ClockSyncComponent();
            try {
                a.submit(() -> {
                    ca.activate(Map.of("agent.id", "alpha", "listen.port", "24101", "peers", "beta@10.240.40.2:24102",
                            "interval.ms", "200", "burst", "4"));
                    return null;
                }).get(10, TimeUnit.SECONDS);
                b.submit(() -> {
                    cb.activate(Map.of("agent.id", "beta", "listen.port", "24102", "peers", "alpha@10.240.40.1:24101",
                            "interval.ms", "200", "burst", "4", "test.injected.offset.ns", Long.toString(injected)));
                    return null;
                }).get(10, TimeUnit.SECONDS);
                assertEquals(null, ca.problem());
                assertEquals(null, cb.problem());
                Thread.sleep(2500);
                PeerClock beta = ca.peer("beta").orElseThrow();
                PeerClock alpha = cb.peer("alpha").orElseThrow();
                System.out.println("alpha sees " + beta + "\nbeta sees " + alpha);
                assertTrue(beta.synced() && alpha.synced());
                assertTrue(beta.samples() >= 8, beta.toString());
                assertTrue(Math.abs(beta.offsetNs() - injected) <= beta.errorBoundNs(), "alpha's estimate of beta: " + beta);
                assertTrue(Math.abs(alpha.offsetNs() + injected) <= alpha.errorBoundNs(), "beta's estimate of alpha: " + alpha);
                assertTrue(beta.errorBoundNs() < 2_000_000, "a veth round trip is well under 4 ms: " + beta);
                assertTrue(beta.ageNs() < 1_000_000_000L, beta.toString());
                // conversion into the local clock
                long before = ca.nowNs();
                long remote = cb.nowNs();
                long after = ca.nowNs();
                long local = ca.toLocalNs("beta", remote).orElseThrow();
                assertTrue(local >= before - beta.errorBoundNs() && local <= after + beta.errorBoundNs(),
                        "beta's now in alpha's clock lies between alpha's readings around it: " + before + " <= " + local + " <= " + after);
                assertTrue(ca.toLocalNs("gamma", remote).isEmpty(), "unknown agents have no offset");
            } finally {
                ca.deactivate();
                cb.deactivate();
            }
        }
    }

    @Test
    void badConfigurationIsRejectedWholeWithOneMessageAndThePreviousOneKept() {
        KernelTestSupport.requireKernel();
        ClockSyncComponent c = new ClockSyncComponent();
        try {
            c.activate(Map.of("agent.id", "x", "listen.address", "127.0.0.1", "listen.port", "0", "peers", "y@127.0.0.1:24103"));
            assertEquals(null, c.problem());
            int port = c.boundPort();
            assertTrue(port > 0);
            c.applyConfig(Map.of("agent.id", "x", "listen.port", "99999", "peers", "nobody, z@host", "burst", "0", "colour", "red"));
            String p = c.problem();
            assertNotNull(p);
            for (String part : new String[] {"listen.port=99999", "'nobody' is not id@host:port", "'z@host'", "burst=0", "unknown key colour",
                "keeping the previous configuration"}) {
                assertTrue(p.contains(part), part + " in: " + p);
            }
            assertEquals(port, c.boundPort(), "still running with the previous settings");
            assertEquals("y", c.peers().get(0).peerId());
        } finally {
            c.deactivate();
        }
    }
}
