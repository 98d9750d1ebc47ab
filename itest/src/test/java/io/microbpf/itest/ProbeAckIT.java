package io.microbpf.itest;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNotNull;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import io.microbpf.api.Event;
import io.microbpf.api.EventSink;
import io.microbpf.api.HookReport;
import io.microbpf.api.Probe;
import io.microbpf.api.ProbeRegistry;
import io.microbpf.api.ProbeState;
import java.lang.reflect.Method;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.function.Supplier;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
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
import org.osgi.framework.ServiceRegistration;

/**
 * The ack probe inside a real Karaf on the real kernel: events for connections this test makes, its
 * shell listing, and that stopping its bundle releases every BPF object it held.
 *
 * <p>Without BPF capability the tests are skipped before any container starts, and fail with
 * CI=true (see {@link BpfPaxExam}). Each test method gets a fresh container (about 10 s) with
 * microbpf-core booted; the probe feature is installed by the test, after the BPF objects of the
 * bare core have been counted.
 */
@RunWith(BpfPaxExam.class)
@ExamReactorStrategy(PerMethod.class)
public class ProbeAckIT {
    private static final String PROBE_ID = "ack";
    private static final String PROBE_BUNDLE = "io.microbpf.probe.ack";
    private static final String EVENT_TYPE = "tcp.connection";
    private static final int CONNECTIONS = 3;

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
    public void ackProbeReportsLoopbackConnectionsAndReleasesItsKernelObjects() throws Exception {
        BpfCapability.require();
        RecordingSink sink = new RecordingSink(EVENT_TYPE);
        ServiceRegistration<EventSink> registration = bundleContext.registerService(EventSink.class, sink, null);
        try {
            BpfObjects before = BpfObjects.count();
            installProbeFeature();
            awaitRunning();
            BpfObjects running = BpfObjects.count();

            List<LoopbackTraffic.Connection> connections = LoopbackTraffic.run(CONNECTIONS);
            assertConnectionEvents(sink, connections);

            assertTrue("a running probe holds BPF programs: before " + before + ", running " + running
                    + "\n" + String.join("\n", running.details()), running.progs() > before.progs());
            assertTrue("running " + running + " must hold more BPF objects than before " + before,
                    running.total() > before.total());

            Bundle probeBundle = bundle(PROBE_BUNDLE);
            probeBundle.stop();
            BpfObjects after = await(10_000, BpfObjects::count, counts -> counts.sameCounts(before));
            assertTrue("stopping " + PROBE_BUNDLE + " must release the BPF objects of the probe: before " + before
                    + ", running " + running + ", after stop " + after
                    + "\nstill held after stop:\n" + String.join("\n", after.details())
                    + "\nheld before:\n" + String.join("\n", before.details()),
                    after.sameCounts(before));
            System.out.println("ProbeAckIT: BPF objects before " + before + ", running " + running + ", after stop " + after
                    + "; " + sink.events().size() + " tcp.connection events received");
        } finally {
            registration.unregister();
        }
    }

    @Test
    public void probeListShowsAckWithItsHook() throws Exception {
        BpfCapability.require();
        installProbeFeature();
        Probe probe = awaitRunning();
        List<HookReport> hooks = probe.hooks();
        assertFalse("a running probe reports its hooks", hooks.isEmpty());

        String output = new KarafShell(sessionFactory).execute("microbpf:probe-list", 30, TimeUnit.SECONDS);

        assertTrue("probe-list lists the probe '" + PROBE_ID + "':\n" + output,
                Pattern.compile("\\b" + PROBE_ID + "\\b").matcher(output).find());
        for (HookReport hook : hooks) {
            if (hook.chosen() != null) {
                assertTrue("probe-list shows the hook " + hook.chosen() + " of attach point " + hook.attachPoint()
                        + ":\n" + output, output.contains(hook.chosen()));
            }
        }
    }

    // ---------------------------------------------------------------------------------------------

    private void installProbeFeature() throws Exception {
        // NoAutoRefreshBundles, like "feature:install -r": nothing already running is refreshed.
        featuresService.installFeature(MicrobpfKaraf.PROBE_FEATURE, EnumSet.of(FeaturesService.Option.NoAutoRefreshBundles));
    }

    private Probe awaitRunning() throws InterruptedException {
        Optional<Probe> probe = await(30_000, () -> probeRegistry.probe(PROBE_ID),
                p -> p.isPresent() && p.get().state() != ProbeState.STOPPED);
        assertTrue("no probe '" + PROBE_ID + "' registered within 30 s; probes: " + describe(probeRegistry.probes()),
                probe.isPresent());
        Probe p = probe.get();
        assertEquals("probe '" + PROBE_ID + "' is not running: " + p.problem() + "; hooks " + p.hooks(),
                ProbeState.RUNNING, p.state());
        return p;
    }

    private void assertConnectionEvents(RecordingSink sink, List<LoopbackTraffic.Connection> connections)
            throws InterruptedException {
        List<Expected> expected = new ArrayList<>();
        for (LoopbackTraffic.Connection c : connections) {
            expected.add(new Expected("OPEN_ACTIVE", c.clientPort(), c.serverPort(), -1, -1));
            expected.add(new Expected("OPEN_PASSIVE", c.serverPort(), c.clientPort(), -1, -1));
            expected.add(new Expected("CLOSE", c.clientPort(), c.serverPort(), c.clientToServerBytes(), c.serverToClientBytes()));
            expected.add(new Expected("CLOSE", c.serverPort(), c.clientPort(), c.serverToClientBytes(), c.clientToServerBytes()));
        }
        List<Expected> missing = await(15_000, () -> missing(expected, sink.events()), List::isEmpty);
        if (!missing.isEmpty()) {
            fail("tcp.connection events missing for our connections " + connections + ":\n  "
                    + missing.stream().map(Expected::toString).collect(Collectors.joining("\n  "))
                    + "\nevents received for our ports:\n  " + ours(sink.events(), connections)
                    + "\n(" + sink.events().size() + " tcp.connection events received in total)");
        }
        for (Event event : sink.events()) {
            if (isOurs(event, connections)) {
                assertEquals("family of " + event.summary(), 4, ((Number) field(event, "family")).intValue());
                assertEquals("local address of " + event.summary(), "127.0.0.1", field(event, "localAddress"));
                assertEquals("remote address of " + event.summary(), "127.0.0.1", field(event, "remoteAddress"));
                assertTrue("wall clock of " + event.summary(), event.wallClockNs() > 0);
            }
        }
    }

    /** One event we expect; bytes of -1 are not checked. */
    private record Expected(String kind, int localPort, int remotePort, long bytesSent, long bytesReceived) {
        boolean matches(Event e) {
            return kind.equals(field(e, "kind"))
                    && localPort == ((Number) field(e, "localPort")).intValue()
                    && remotePort == ((Number) field(e, "remotePort")).intValue()
                    && (bytesSent < 0 || bytesSent == ((Number) field(e, "bytesSent")).longValue())
                    && (bytesReceived < 0 || bytesReceived == ((Number) field(e, "bytesReceived")).longValue());
        }
    }

    private static List<Expected> missing(List<Expected> expected, List<Event> events) {
        return expected.stream().filter(x -> events.stream().noneMatch(x::matches)).collect(Collectors.toList());
    }

    private static boolean isOurs(Event event, List<LoopbackTraffic.Connection> connections) {
        int local = ((Number) field(event, "localPort")).intValue();
        int remote = ((Number) field(event, "remotePort")).intValue();
        return connections.stream().anyMatch(c -> (local == c.clientPort() && remote == c.serverPort())
                || (local == c.serverPort() && remote == c.clientPort()));
    }

    private static String ours(List<Event> events, List<LoopbackTraffic.Connection> connections) {
        return events.stream().filter(e -> isOurs(e, connections)).map(ProbeAckIT::describe)
                .collect(Collectors.joining("\n  "));
    }

    private static String describe(Event e) {
        return e.summary() + " [kind=" + field(e, "kind") + " local=" + field(e, "localPort") + " remote="
                + field(e, "remotePort") + " sent=" + field(e, "bytesSent") + " received=" + field(e, "bytesReceived") + "]";
    }

    private static String describe(List<Probe> probes) {
        return probes.stream().map(p -> p.id() + "=" + p.state() + (p.problem() == null ? "" : " (" + p.problem() + ")"))
                .collect(Collectors.joining(", ", "[", "]"));
    }

    /**
     * Reads a record component of an event of the probe bundle by name. Reflection keeps this test
     * bundle free of a class-level dependency on io.microbpf.probe.ack, which is installed later.
     */
    private static Object field(Event event, String name) {
        try {
            Method accessor = event.getClass().getMethod(name);
            return accessor.invoke(event);
        } catch (ReflectiveOperationException e) {
            throw new AssertionError(event.getClass().getName() + " has no accessor " + name + "()", e);
        }
    }

    private Bundle bundle(String symbolicName) {
        for (Bundle b : bundleContext.getBundles()) {
            if (symbolicName.equals(b.getSymbolicName())) {
                return b;
            }
        }
        fail("no bundle " + symbolicName);
        return null;
    }

    /** Polls every 100 ms until the value satisfies the condition or the time is up; returns the last value. */
    private static <T> T await(long timeoutMs, Supplier<T> value, Predicate<T> condition)
            throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
        T last = value.get();
        while (!condition.test(last) && System.nanoTime() < deadline) {
            Thread.sleep(100);
            last = value.get();
        }
        assertNotNull(last);
        return last;
    }
}
