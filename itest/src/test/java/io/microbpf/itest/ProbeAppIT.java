package io.microbpf.itest;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNotNull;
import static org.junit.Assert.assertTrue;

import io.microbpf.api.Probe;
import io.microbpf.api.ProbeRegistry;
import io.microbpf.api.ProbeState;
import io.microbpf.api.latency.LatencyReport;
import io.microbpf.api.latency.LatencySummary;
import java.io.DataInputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.EnumSet;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.function.Supplier;
import javax.inject.Inject;
import org.apache.karaf.features.FeaturesService;
import org.apache.karaf.shell.api.console.SessionFactory;
import org.junit.Test;
import org.junit.runner.RunWith;
import org.ops4j.pax.exam.Configuration;
import org.ops4j.pax.exam.Option;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerMethod;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.ServiceReference;

/**
 * The app probe inside a real Karaf on the real kernel: feature microbpf-probe-app installs, the probe
 * runs, its LatencyReport (family "app") is a service, microbpf:app-latency prints a row per role, port
 * and phase for exchanges this test makes, and stopping its bundle releases its BPF objects.
 */
@RunWith(BpfPaxExam.class)
@ExamReactorStrategy(PerMethod.class)
public class ProbeAppIT {
    private static final int EXCHANGES = 20;

    @Inject
    private BundleContext bundleContext;

    @Inject
    private FeaturesService featuresService;

    @Inject
    private ProbeRegistry probeRegistry;

    @Inject
    private SessionFactory sessionFactory;

    @Configuration
    public Option[] config() {
        return MicrobpfKaraf.options();
    }

    @Test
    public void appLatencyCommandShowsThisTestsExchangesAndStopReleasesEverything() throws Exception {
        BpfCapability.require();
        BpfObjects before = BpfObjects.count();
        featuresService.installFeature("microbpf-probe-app", EnumSet.of(FeaturesService.Option.NoAutoRefreshBundles));
        Optional<Probe> probe = await(30_000, () -> probeRegistry.probe("app"),
                p -> p.isPresent() && p.get().state() != ProbeState.STOPPED);
        assertTrue("probe app registered: " + probeRegistry.probes(), probe.isPresent());
        assertEquals(probe.get().problem(), ProbeState.RUNNING, probe.get().state());

        int port;
        try (ServerSocket server = new ServerSocket(0, 5, InetAddress.getLoopbackAddress());
                Socket c = new Socket(InetAddress.getLoopbackAddress(), server.getLocalPort());
                Socket s = server.accept()) {
            port = server.getLocalPort();
            for (int i = 0; i < EXCHANGES; i++) {
                c.getOutputStream().write(new byte[40]);
                new DataInputStream(s.getInputStream()).readFully(new byte[40]);
                Thread.sleep(2);
                s.getOutputStream().write(new byte[400]);
                new DataInputStream(c.getInputStream()).readFully(new byte[400]);
            }
        }
        LatencyReport report = appReport();
        String p = Integer.toString(port);
        List<LatencySummary> ours = await(10_000, () -> report.summaries().stream()
                .filter(x -> p.equals(x.labels().get("port"))).toList(),
                l -> l.size() == 5 && l.stream().allMatch(x -> x.count() == EXCHANGES));
        assertEquals("server queue/think/send and client send/request for port " + p + ": " + ours, 5, ours.size());
        for (LatencySummary x : ours) {
            assertEquals(x.toString(), EXCHANGES, x.count());
            if (x.labels().get("phase").equals("think")) {
                assertTrue("think >= the server's 2 ms sleep: " + x, x.p50Ns() >= 2_000_000);
            }
        }

        KarafShell shell = new KarafShell(sessionFactory);
        String output = shell.execute("microbpf:app-latency --port " + p, 30, TimeUnit.SECONDS);
        System.out.println("ProbeAppIT microbpf:app-latency --port " + p + ":\n" + output);
        for (String row : new String[] {"server  " + p + "  queue", "server  " + p + "  think", "server  " + p + "  send",
            "client  " + p + "  send", "client  " + p + "  request"}) {
            assertTrue("row '" + row + "' in:\n" + output, output.contains(row));
        }
        assertTrue(output, output.contains(" ms") || output.contains(" µs"));
        String list = shell.execute("microbpf:probe-list", 30, TimeUnit.SECONDS);
        assertTrue(list, list.contains("cgroup_skb/egress") && list.contains("tp_btf/skb_copy_datagram_iovec"));

        Bundle bundle = null;
        for (Bundle b : bundleContext.getBundles()) {
            if ("io.microbpf.probe.app".equals(b.getSymbolicName())) {
                bundle = b;
            }
        }
        assertNotNull(bundle);
        bundle.stop();
        BpfObjects after = await(10_000, BpfObjects::count, counts -> counts.sameCounts(before));
        assertTrue("stopping the app probe releases its BPF objects: before " + before + ", after " + after
                + "\n" + String.join("\n", after.details()), after.sameCounts(before));
    }

    private LatencyReport appReport() throws Exception {
        for (ServiceReference<LatencyReport> ref : bundleContext.getServiceReferences(LatencyReport.class, null)) {
            LatencyReport r = bundleContext.getService(ref);
            if ("app".equals(r.family())) {
                return r;
            }
        }
        throw new AssertionError("no LatencyReport of family app registered");
    }

    private static <T> T await(long timeoutMs, Supplier<T> value, Predicate<T> condition) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
        T last = value.get();
        while (!condition.test(last) && System.nanoTime() < deadline) {
            Thread.sleep(100);
            last = value.get();
        }
        return last;
    }
}
