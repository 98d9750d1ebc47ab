package io.microbpf.itest;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;
import static org.ops4j.pax.exam.karaf.options.KarafDistributionOption.editConfigurationFilePut;

import io.microbpf.api.HookReport;
import io.microbpf.api.Probe;
import io.microbpf.api.ProbeRegistry;
import io.microbpf.api.ProbeState;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import javax.inject.Inject;
import org.apache.karaf.features.FeaturesService;
import org.apache.karaf.shell.api.console.SessionFactory;
import org.junit.Test;
import org.junit.runner.RunWith;
import org.ops4j.pax.exam.Configuration;
import org.ops4j.pax.exam.Option;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerClass;

/**
 * The NIC latency features inside a real Karaf: installing microbpf-collector brings clock sync and
 * the nic probe; the probe attaches its hooks; clock sync reaches its peer (here the agent itself
 * under a second id, the only other agent a single container has); the collector's endpoint (the
 * JDK HTTP server, loaded through Karaf's boot delegation of com.sun.*) takes pushes in the push
 * sink's wire format, matches a TX of one agent with the RX of the other, and microbpf:netlat and
 * microbpf:clock show it.
 *
 * <p>A wiring test: the pushed records are written by the test, so the 3 ms it finds is the gap the
 * test put between them. The measurement itself (real NIC records from two agents in their own
 * namespaces, an injected clock offset, a TBF queue) is checked by the collector's
 * MultiHostKernelTest.
 */
@RunWith(BpfPaxExam.class)
@ExamReactorStrategy(PerClass.class)
public class NetlatIT {
    static final String COLLECTOR_PORT = System.getProperty("itest.collectorPort", "18301");
    static final String CLOCK_PORT = "24381";

    @Inject
    private FeaturesService featuresService;

    @Inject
    private ProbeRegistry probeRegistry;

    @Inject
    private SessionFactory sessionFactory;

    @Configuration
    public Option[] config() {
        List<Option> o = new ArrayList<>(Arrays.asList(MicrobpfKaraf.options()));
        o.add(editConfigurationFilePut("etc/io.microbpf.collector.cfg", "listen.port", COLLECTOR_PORT));
        o.add(editConfigurationFilePut("etc/io.microbpf.clocksync.cfg", "agent.id", "itest"));
        o.add(editConfigurationFilePut("etc/io.microbpf.clocksync.cfg", "listen.address", "127.0.0.1"));
        o.add(editConfigurationFilePut("etc/io.microbpf.clocksync.cfg", "listen.port", CLOCK_PORT));
        o.add(editConfigurationFilePut("etc/io.microbpf.clocksync.cfg", "peers", "loop@127.0.0.1:" + CLOCK_PORT));
        o.add(editConfigurationFilePut("etc/io.microbpf.clocksync.cfg", "interval.ms", "200"));
        o.add(editConfigurationFilePut("etc/io.microbpf.probe.nic.cfg", "exclude.ports", COLLECTOR_PORT));
        return o.toArray(new Option[0]);
    }

    private static String event(String direction, long ts) {
        return "{\"type\":\"nic.segment\",\"direction\":\"" + direction + "\",\"family\":4,\"srcAddress\":\"10.240.9.1\","
                + "\"srcPort\":24001,\"dstAddress\":\"10.240.9.2\",\"dstPort\":24002,\"seq\":1000,\"ack\":2000,"
                + "\"payloadBytes\":100,\"ipId\":7,\"tcpFlags\":24,\"ifindex\":2,\"interfaceName\":\"eth0\",\"netnsInode\":1,"
                + "\"gsoSegments\":1,\"segmentIndex\":0,\"hook\":\"test\",\"monotonicNs\":" + ts + ",\"wallClockNs\":" + ts + "}";
    }

    @Test
    public void collectorFeatureMatchesPushedRecordsAndTheShellShowsLatencyAndClock() throws Exception {
        BpfCapability.require();
        featuresService.installFeature("microbpf-collector", EnumSet.of(FeaturesService.Option.NoAutoRefreshBundles));
        KarafShell shell = new KarafShell(sessionFactory);

        Optional<Probe> nic = Optional.empty();
        for (int i = 0; i < 300 && (nic.isEmpty() || nic.get().state() != ProbeState.RUNNING); i++) {
            Thread.sleep(100);
            nic = probeRegistry.probe("nic");
        }
        assertTrue("nic probe running: " + nic.map(p -> p.state() + " " + p.problem()).orElse("absent"),
                nic.isPresent() && nic.get().state() == ProbeState.RUNNING);
        String probes = shell.execute("microbpf:probe-list", 30, TimeUnit.SECONDS);
        for (HookReport h : nic.get().hooks()) {
            if (h.chosen() != null) {
                assertTrue(h.chosen() + " in:\n" + probes, probes.contains(h.chosen()));
            }
        }

        String clock = "";
        for (int i = 0; i < 100 && !(clock.contains("loop") && !clock.contains("never")); i++) {
            Thread.sleep(200);
            clock = shell.execute("microbpf:clock", 30, TimeUnit.SECONDS);
        }
        assertTrue("clock sync reached its peer:\n" + clock, clock.contains("loop") && !clock.contains("never")
                && clock.contains("agent itest"));

        HttpClient http = HttpClient.newHttpClient();
        URI url = URI.create("http://127.0.0.1:" + COLLECTOR_PORT + "/microbpf/push");
        long t = 5_000_000_000L;
        for (String body : new String[] {
            "{\"agent\":\"itest\",\"sentWallNs\":1,\"events\":[" + event("TX", t) + ",{\"type\":\"tcp.connection\",\"kind\":\"CLOSE\"}]}",
            "{\"agent\":\"loop\",\"sentWallNs\":1,\"events\":[" + event("RX", t + 3_000_000) + "]}"}) {
            HttpRequest request = HttpRequest.newBuilder(url).header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString(body)).build();
            HttpResponse<String> r = null;
            // the collector component binds its endpoint asynchronously after the feature install returns
            for (int i = 0; r == null; i++) {
                try {
                    r = http.send(request, HttpResponse.BodyHandlers.ofString());
                } catch (java.io.IOException notListeningYet) {
                    if (i >= 100) {
                        throw new AssertionError("collector endpoint " + url + " not reachable after 20 s", notListeningYet);
                    }
                    Thread.sleep(200);
                }
            }
            assertEquals("push answered: " + r.body(), 204, r.statusCode());
        }
        String netlat = shell.execute("microbpf:netlat -f", 30, TimeUnit.SECONDS);
        System.out.println("NetlatIT:\n" + clock + netlat);
        assertTrue(netlat, netlat.contains("itest") && netlat.contains("loop") && netlat.contains("10.240.9.1:24001>10.240.9.2:24002"));
        assertTrue("3 ms minus the offset to itself (a few µs at most):\n" + netlat, netlat.contains("3.00 ms") || netlat.contains("2.99 ms"));
        assertTrue(netlat, netlat.contains("records 2, matched 1"));
    }
}
