package io.microbpf.itest;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import io.microbpf.api.Dispatcher;
import io.microbpf.api.EventSink;
import io.microbpf.api.Probe;
import io.microbpf.api.ProbeRegistry;
import io.microbpf.api.ProbeState;
import io.microbpf.api.SinkStats;
import java.util.EnumSet;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import javax.inject.Inject;
import org.apache.karaf.features.FeaturesService;
import org.junit.Test;
import org.junit.runner.RunWith;
import org.ops4j.pax.exam.Configuration;
import org.ops4j.pax.exam.MavenUtils;
import org.ops4j.pax.exam.Option;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerMethod;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.ServiceRegistration;

/**
 * examples/custom-sink hot-installed into a running container with the ack probe attached: the
 * dispatcher wires it at once and it receives the probe's events; uninstalling it unwires it, and
 * the probe (and another sink) keep going.
 */
@RunWith(BpfPaxExam.class)
@ExamReactorStrategy(PerMethod.class)
public class CustomSinkIT {
    private static final String SINK = "example-slow-connections";

    @Inject
    private BundleContext bundleContext;

    @Inject
    private FeaturesService featuresService;

    @Inject
    private ProbeRegistry probeRegistry;

    @Inject
    private Dispatcher dispatcher;

    @Configuration
    public Option[] config() {
        // runs in the driver, which knows the reactor's versions; the test itself runs in the container
        return org.ops4j.pax.exam.OptionUtils.combine(MicrobpfKaraf.options(),
                org.ops4j.pax.exam.CoreOptions.systemProperty("itest.exampleVersion")
                        .value(MavenUtils.getArtifactVersion("io.microbpf", "microbpf-example-custom-sink")));
    }

    @Test
    public void aHotInstalledCustomSinkReceivesEventsAndUninstallingItLeavesTheProbeRunning() throws Exception {
        BpfCapability.require();
        RecordingSink other = new RecordingSink("tcp.connection");
        ServiceRegistration<EventSink> registration = bundleContext.registerService(EventSink.class, other, null);
        try {
            featuresService.installFeature(MicrobpfKaraf.PROBE_FEATURE, EnumSet.of(FeaturesService.Option.NoAutoRefreshBundles));
            assertTrue("ack probe running", await(30_000, () -> probeRegistry.probe("ack").map(p -> p.state() == ProbeState.RUNNING).orElse(false)));
            Probe probe = probeRegistry.probe("ack").get();

            String version = System.getProperty("itest.exampleVersion");
            Bundle example = bundleContext.installBundle("mvn:io.microbpf/microbpf-example-custom-sink/" + version);
            example.start();
            assertTrue("the custom sink is wired as soon as its bundle starts: " + dispatcher.sinkStats(),
                    await(10_000, () -> stats(SINK).isPresent()));

            LoopbackTraffic.run(3);
            assertTrue("the custom sink received our connections' events (3 x 4 at least): " + stats(SINK),
                    await(15_000, () -> stats(SINK).map(s -> s.delivered() >= 12).orElse(false)));
            SinkStats wired = stats(SINK).get();
            assertEquals("no failures in the custom sink: " + wired, 0, wired.failed());
            assertEquals("ok", wired.state());

            example.uninstall();
            assertTrue("uninstalling unwires the sink: " + dispatcher.sinkStats(), await(10_000, () -> stats(SINK).isEmpty()));

            long probeEvents = probe.events();
            int otherEvents = other.events().size();
            LoopbackTraffic.run(3);
            assertTrue("the probe's counters keep rising after the uninstall: " + probeEvents + " -> " + probe.events(),
                    await(15_000, () -> probe.events() >= probeEvents + 12));
            assertTrue("the other sink keeps receiving: " + otherEvents + " -> " + other.events().size(),
                    await(15_000, () -> other.events().size() >= otherEvents + 12));
            assertEquals(ProbeState.RUNNING, probe.state());
            System.out.println("CustomSinkIT: custom sink got " + wired.delivered() + " events; probe events " + probeEvents
                    + " -> " + probe.events() + " after the uninstall");
        } finally {
            registration.unregister();
        }
    }

    private Optional<SinkStats> stats(String name) {
        return dispatcher.sinkStats().stream().filter(s -> s.name().equals(name)).findFirst();
    }

    static boolean await(long timeoutMs, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                return false;
            }
            Thread.sleep(100);
        }
        return true;
    }
}
