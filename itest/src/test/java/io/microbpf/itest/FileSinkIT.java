package io.microbpf.itest;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;
import static org.ops4j.pax.exam.karaf.options.KarafDistributionOption.editConfigurationFilePut;

import io.microbpf.api.Dispatcher;
import io.microbpf.api.EventSink;
import io.microbpf.api.Probe;
import io.microbpf.api.ProbeRegistry;
import io.microbpf.api.ProbeState;
import io.microbpf.api.SinkStats;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.Hashtable;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import javax.inject.Inject;
import org.apache.karaf.features.FeaturesService;
import org.apache.karaf.shell.api.console.SessionFactory;
import org.junit.Test;
import org.junit.runner.RunWith;
import org.ops4j.pax.exam.Option;
import org.ops4j.pax.exam.OptionUtils;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerMethod;
import org.osgi.framework.BundleContext;
import org.osgi.framework.ServiceRegistration;
import org.osgi.service.cm.Configuration;
import org.osgi.service.cm.ConfigurationAdmin;

/**
 * microbpf-sink-file in a real Karaf: with a directory it cannot create, sink-list shows it failed with
 * one clear reason while the probe and another sink carry on; pointed at a good directory (live
 * configuration change) it recovers and writes the probe's events as JSON Lines.
 */
@RunWith(BpfPaxExam.class)
@ExamReactorStrategy(PerMethod.class)
public class FileSinkIT {
    private static final String BAD_DIRECTORY = "/proc/version/events"; // /proc/version is a file

    @Inject
    private BundleContext bundleContext;

    @Inject
    private FeaturesService featuresService;

    @Inject
    private ProbeRegistry probeRegistry;

    @Inject
    private Dispatcher dispatcher;

    @Inject
    private ConfigurationAdmin configurationAdmin;

    @Inject
    private SessionFactory sessionFactory;

    @org.ops4j.pax.exam.Configuration
    public Option[] config() {
        return OptionUtils.combine(MicrobpfKaraf.options(),
                editConfigurationFilePut("etc/io.microbpf.sink.file.cfg", "directory", BAD_DIRECTORY));
    }

    @Test
    public void aBadDirectoryIsListedFailedOthersCarryOnAndAGoodOneRecovers() throws Exception {
        BpfCapability.require();
        RecordingSink other = new RecordingSink("tcp.connection");
        ServiceRegistration<EventSink> registration = bundleContext.registerService(EventSink.class, other, null);
        try {
            featuresService.installFeature(MicrobpfKaraf.PROBE_FEATURE, EnumSet.of(FeaturesService.Option.NoAutoRefreshBundles));
            featuresService.installFeature("microbpf-sink-file", EnumSet.of(FeaturesService.Option.NoAutoRefreshBundles));
            assertTrue(CustomSinkIT.await(30_000, () -> probeRegistry.probe("ack").map(p -> p.state() == ProbeState.RUNNING).orElse(false)));
            Probe probe = probeRegistry.probe("ack").get();
            assertTrue("the file sink is wired: " + dispatcher.sinkStats(), CustomSinkIT.await(10_000, () -> stats("file").isPresent()));

            LoopbackTraffic.run(3);
            assertTrue("the other sink gets the probe's events", CustomSinkIT.await(15_000, () -> other.events().size() >= 12));
            assertTrue("the file sink counts its failures: " + stats("file"),
                    CustomSinkIT.await(15_000, () -> stats("file").map(s -> s.failed() > 0).orElse(false)));
            SinkStats failed = stats("file").get();
            String reason = "cannot create directory " + BAD_DIRECTORY + " (Not a directory)";
            assertEquals(reason, failed.problem());
            assertEquals(0, failed.delivered());
            String listing = new KarafShell(sessionFactory).execute("microbpf:sink-list", 30, TimeUnit.SECONDS);
            assertTrue("sink-list shows the file sink failed with its reason:\n" + listing,
                    listing.lines().anyMatch(l -> l.startsWith("file") && l.contains("failed: " + reason)));
            assertTrue(listing, listing.lines().anyMatch(l -> l.startsWith("itest-recorder") && l.contains(" ok ")));
            assertEquals(ProbeState.RUNNING, probe.state());

            Path good = Files.createTempDirectory("snk-filesink");
            Configuration config = configurationAdmin.getConfiguration("io.microbpf.sink.file", null);
            Hashtable<String, Object> props = new Hashtable<>();
            props.put("directory", good.toString());
            props.put("types", "tcp.connection");
            config.update(props);
            assertTrue("the file sink recovers on the new directory: " + stats("file"),
                    CustomSinkIT.await(15_000, () -> stats("file").map(s -> s.problem() == null).orElse(false)));
            List<LoopbackTraffic.Connection> connections = LoopbackTraffic.run(2);
            Path file = good.resolve("events.jsonl");
            assertTrue("our connections' CLOSE records land in " + file, CustomSinkIT.await(15_000, () -> {
                try {
                    String text = Files.exists(file) ? Files.readString(file) : "";
                    // one JSON line that is the CLOSE of this very connection (its client port), per connection
                    return connections.stream().allMatch(c -> text.lines().anyMatch(line ->
                            line.contains("\"localPort\":" + c.clientPort() + ",") && line.contains("\"kind\":\"CLOSE\"")));
                } catch (java.io.IOException e) {
                    return false;
                }
            }));
            for (String line : Files.readAllLines(file)) {
                // a line may end with spaces: the sink pads the line before one that would cross a page boundary
                String object = line.stripTrailing();
                assertTrue("one JSON object per line: " + line, object.startsWith("{\"kind\":") && object.endsWith("}")
                        && object.contains("\"type\":\"tcp.connection\"") && line.substring(object.length()).isBlank());
            }
            System.out.println("FileSinkIT: failed with '" + reason + "', then wrote " + Files.readAllLines(file).size()
                    + " lines to " + file);
            config.delete(); // back to the default directory; the file sink closes this one
            try (var files = Files.walk(good)) {
                files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        } finally {
            registration.unregister();
        }
    }

    private Optional<SinkStats> stats(String name) {
        return dispatcher.sinkStats().stream().filter(s -> s.name().equals(name)).findFirst();
    }
}
