package io.microbpf.sink.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.microbpf.api.Probe;
import io.microbpf.api.ProbeRegistry;
import io.microbpf.api.ProbeState;
import io.microbpf.core.internal.SinkFanout;
import io.microbpf.probe.ack.TcpFlowEvent;
import io.microbpf.probe.ack.internal.AckProbeComponent;
import io.microbpf.test.KernelTestSupport;
import java.io.BufferedReader;
import java.io.DataInputStream;
import java.io.InputStreamReader;
import java.net.HttpURLConnection;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The HTTP sink on real traffic through the real ack probe: {@code /metrics} (checked by promtool)
 * and {@code /api/flows} carry exactly the probe's own records for our connections, which carry
 * exactly the bytes the test sent; the event stream delivers our connections' events; and the web
 * page, opened in headless Chromium, plots latency CDFs and lists the flows.
 *
 * <p>Latency reports: the per-layer, app and netlat probes are other modules, so this test registers
 * its own reports filled from the same real traffic: family {@code app}, the request-to-response time
 * the test client measured per server (one answering at once, one after a 2 ms think time), and
 * family {@code netlat}, the smoothed RTT the ack probe recorded for each of our flows.
 */
class HttpSinkKernelTest {
    static final ObjectMapper JSON = new ObjectMapper();
    static final long[] UP_BYTES = {10_000, 250_000, 1_234_567};
    static final long[] DOWN_BYTES = {70_000, 3_000, 999};

    static AckProbeComponent probe;
    static SinkFanout fanout;
    static EventStream stream;
    static TestSources sources;
    static TestHttpServer server;
    static HistogramReport app;
    static HistogramReport netlat;
    static final List<Socket> open = new ArrayList<>();
    static final List<ServerSocket> listeners = new ArrayList<>();
    static final List<int[]> ports = new ArrayList<>(); // {clientPort, serverPort}

    @BeforeAll
    static void start() throws Exception {
        KernelTestSupport.requireKernel();
        fanout = new SinkFanout(100_000);
        stream = new EventStream();
        fanout.addSink(stream);
        probe = new AckProbeComponent();
        probe.setPublisher(fanout);
        probe.activate(Map.of("snapshot.interval.ms", "200"));
        assertEquals(ProbeState.RUNNING, probe.state(), probe.problem());
        sources = new TestSources();
        sources.dispatcher = fanout;
        sources.flowTables.add(probe);
        sources.probes = new ProbeRegistry() {
            public List<Probe> probes() { return List.of(probe); }
            public Optional<Probe> probe(String id) { return id.equals(probe.id()) ? Optional.of(probe) : Optional.empty(); }
        };
        app = new HistogramReport("app");
        netlat = new HistogramReport("netlat");
        sources.latencyReports.add(app);
        sources.latencyReports.add(netlat);
        server = new TestHttpServer(new Routes(JSON, sources, stream, new Routes.Settings(1000, 1000, 4, 10_000, 500, null)));
    }

    @AfterAll
    static void stop() throws Exception {
        for (Socket s : open) {
            s.close();
        }
        for (ServerSocket s : listeners) {
            s.close();
        }
        if (server != null) {
            server.close();
        }
        if (probe != null) {
            probe.deactivate();
        }
        if (fanout != null) {
            fanout.close();
        }
    }

    /** Opens three connections that move known bytes and then stay open, idle. */
    static void openIdleFlows() throws Exception {
        if (!ports.isEmpty()) {
            return;
        }
        for (int i = 0; i < UP_BYTES.length; i++) {
            ServerSocket ss = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
            listeners.add(ss);
            Socket client = new Socket(ss.getInetAddress(), ss.getLocalPort());
            Socket accepted = ss.accept();
            open.add(client);
            open.add(accepted);
            int n = i;
            Thread reader = new Thread(() -> {
                try {
                    new DataInputStream(accepted.getInputStream()).readFully(new byte[(int) UP_BYTES[n]]);
                    accepted.getOutputStream().write(new byte[(int) DOWN_BYTES[n]]);
                } catch (Exception e) {
                    throw new RuntimeException(e);
                }
            });
            reader.start();
            client.getOutputStream().write(new byte[(int) UP_BYTES[i]]);
            new DataInputStream(client.getInputStream()).readFully(new byte[(int) DOWN_BYTES[i]]);
            reader.join();
            ports.add(new int[] {client.getLocalPort(), ss.getLocalPort()});
        }
    }

    static TcpFlowEvent find(List<TcpFlowEvent> flows, int local, int remote) {
        return flows.stream().filter(f -> f.localPort() == local && f.remotePort() == remote && f.localAddress().equals("127.0.0.1"))
                .findFirst().orElse(null);
    }

    /** Waits until the probe's table shows every end of our flows with the bytes the test moved. */
    static List<TcpFlowEvent> awaitSettled() throws InterruptedException {
        long deadline = System.currentTimeMillis() + 15_000;
        List<TcpFlowEvent> flows = probe.flows();
        while (System.currentTimeMillis() < deadline) {
            flows = probe.flows();
            boolean all = true;
            for (int i = 0; i < ports.size(); i++) {
                TcpFlowEvent c = find(flows, ports.get(i)[0], ports.get(i)[1]);
                TcpFlowEvent s = find(flows, ports.get(i)[1], ports.get(i)[0]);
                all &= c != null && s != null && c.bytesSent() == UP_BYTES[i] && c.bytesReceived() == DOWN_BYTES[i]
                        && s.bytesSent() == DOWN_BYTES[i] && s.bytesReceived() == UP_BYTES[i];
            }
            if (all) {
                Thread.sleep(500); // one more snapshot while idle: the values no longer change
                return probe.flows();
            }
            Thread.sleep(100);
        }
        return flows;
    }

    static String fetch(String url) throws Exception {
        HttpURLConnection c = (HttpURLConnection) URI.create(url).toURL().openConnection();
        assertEquals(200, c.getResponseCode(), url);
        return new String(c.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    }

    @Test
    void metricsAndFlowsJsonCarryTheProbesOwnRecordsWhichCarryTheBytesSent() throws Exception {
        openIdleFlows();
        List<TcpFlowEvent> flows = awaitSettled();
        String metrics = fetch(server.base() + "/metrics");
        JsonNode json = JSON.readTree(fetch(server.base() + "/api/flows?limit=100000"));
        Promtool.check(metrics);
        Map<String, Double> v = Promtool.samples(metrics);
        for (int i = 0; i < ports.size(); i++) {
            for (int end = 0; end < 2; end++) {
                int local = ports.get(i)[end];
                int remote = ports.get(i)[1 - end];
                TcpFlowEvent f = find(flows, local, remote);
                assertNotNull(f, "the probe tracks 127.0.0.1:" + local + " -> " + remote);
                assertEquals(end == 0 ? UP_BYTES[i] : DOWN_BYTES[i], f.bytesSent(), "ground truth: bytes the test sent");
                assertEquals(end == 0 ? DOWN_BYTES[i] : UP_BYTES[i], f.bytesReceived());
                String labels = "{local=\"127.0.0.1:" + local + "\",netns=\"" + f.netnsInode() + "\",remote=\"127.0.0.1:" + remote + "\"}";
                assertEquals((double) f.bytesSent(), v.get("microbpf_flow_sent_bytes_total" + labels), labels + "\n" + metrics);
                assertEquals((double) f.bytesReceived(), v.get("microbpf_flow_received_bytes_total" + labels));
                assertEquals((double) f.cwndPackets(), v.get("microbpf_flow_cwnd_packets" + labels));
                assertEquals((double) f.mssBytes(), v.get("microbpf_flow_mss_bytes" + labels));
                assertEquals((double) f.retransmittedPackets(), v.get("microbpf_flow_retransmitted_packets_total" + labels));
                assertEquals((double) f.rttSamples(), v.get("microbpf_flow_rtt_samples_total" + labels));
                assertEquals((double) f.readBytes(), v.get("microbpf_flow_read_bytes_total" + labels));
                assertEquals((double) f.writeBytes(), v.get("microbpf_flow_written_bytes_total" + labels));
                assertEquals(f.srttUs() * 1e-6, v.get("microbpf_flow_srtt_seconds" + labels), 1e-9);
                JsonNode j = null;
                for (JsonNode n : json.get("flows")) {
                    if (n.get("localPort").asInt() == local && n.get("remotePort").asInt() == remote) {
                        j = n;
                    }
                }
                assertNotNull(j, "/api/flows lists " + local + " -> " + remote);
                assertEquals(f.bytesSent(), j.get("bytesSent").asLong());
                assertEquals(f.bytesReceived(), j.get("bytesReceived").asLong());
                assertEquals(f.socketCookie(), j.get("socketCookie").asLong());
                assertEquals(f.rttSamples(), j.get("rttSamples").asLong());
            }
        }
        double events = v.get("microbpf_probe_events_total{family=\"" + probe.family() + "\",probe=\"ack\"}");
        assertTrue(events > 0 && events <= probe.events(), events + " events exported, the probe has read " + probe.events());
        assertEquals(1.0, v.get("microbpf_probe_running{family=\"" + probe.family() + "\",probe=\"ack\"}"));
    }

    @Test
    void theEventStreamDeliversOurConnectionsEventsAndOnlyTheRequestedType() throws Exception {
        HttpURLConnection c = (HttpURLConnection) URI.create(server.base() + "/api/events?types=tcp.connection").toURL().openConnection();
        c.setReadTimeout(10_000);
        assertEquals(200, c.getResponseCode());
        long deadline = System.currentTimeMillis() + 5000;
        while (stream.clients() == 0 && System.currentTimeMillis() < deadline) {
            Thread.sleep(10);
        }
        int serverPort;
        int clientPort;
        try (ServerSocket ss = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            serverPort = ss.getLocalPort();
            try (Socket client = new Socket(ss.getInetAddress(), serverPort); Socket accepted = ss.accept()) {
                clientPort = client.getLocalPort();
                client.getOutputStream().write(new byte[12_345]);
                new DataInputStream(accepted.getInputStream()).readFully(new byte[12_345]);
            }
        }
        List<String> ours = new ArrayList<>();
        List<String> types = new ArrayList<>();
        Pattern kind = Pattern.compile("\"kind\":\"([A-Z_]+)\"");
        try (BufferedReader r = new BufferedReader(new InputStreamReader(c.getInputStream(), StandardCharsets.UTF_8))) {
            String line;
            while (ours.size() < 4 && (line = r.readLine()) != null) {
                if (line.startsWith("event: ")) {
                    types.add(line.substring(7));
                } else if (line.startsWith("data: ")) {
                    JsonNode e = JSON.readTree(line.substring(6));
                    int lp = e.get("localPort").asInt();
                    int rp = e.get("remotePort").asInt();
                    if (lp == clientPort && rp == serverPort || lp == serverPort && rp == clientPort) {
                        Matcher m = kind.matcher(line);
                        assertTrue(m.find());
                        ours.add(m.group(1) + (lp == clientPort ? "@client" : "@server")
                                + (m.group(1).equals("CLOSE") ? " " + e.get("bytesSent").asLong() + "/" + e.get("bytesReceived").asLong() : ""));
                    }
                }
            }
        } catch (SocketTimeoutException e) {
            // reported below
        } finally {
            c.disconnect();
        }
        assertTrue(types.stream().allMatch("tcp.connection"::equals), types.toString());
        assertEquals(List.of("CLOSE@client 12345/0", "CLOSE@server 0/12345", "OPEN_ACTIVE@client", "OPEN_PASSIVE@server"),
                ours.stream().sorted().toList());
    }

    @Test
    void theWebPageInHeadlessChromiumPlotsLatencyFromRealTrafficAndListsTheFlows() throws Exception {
        openIdleFlows();
        // app latency: request -> response times of real exchanges, measured by the client
        for (long thinkMs : new long[] {0, 2}) {
            try (ServerSocket ss = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
                Thread t = new Thread(() -> {
                    try (Socket s = ss.accept()) {
                        byte[] req = new byte[100];
                        DataInputStream in = new DataInputStream(s.getInputStream());
                        for (int i = 0; i < 200; i++) {
                            in.readFully(req);
                            if (thinkMs > 0) {
                                Thread.sleep(thinkMs);
                            }
                            s.getOutputStream().write(new byte[1000]);
                        }
                    } catch (Exception e) {
                        throw new RuntimeException(e);
                    }
                });
                t.start();
                try (Socket c = new Socket(ss.getInetAddress(), ss.getLocalPort())) {
                    c.setTcpNoDelay(true);
                    DataInputStream in = new DataInputStream(c.getInputStream());
                    for (int i = 0; i < 200; i++) {
                        long t0 = System.nanoTime();
                        c.getOutputStream().write(new byte[100]);
                        in.readFully(new byte[1000]);
                        app.record(Map.of("server", "think " + thinkMs + " ms"), System.nanoTime() - t0);
                    }
                }
                t.join();
            }
        }
        for (TcpFlowEvent f : awaitSettled()) {
            if (ports.stream().anyMatch(p -> p[0] == f.localPort() || p[1] == f.localPort()) && f.srttUs() > 0) {
                netlat.record(new java.util.LinkedHashMap<>(Map.of("src", f.localAddress(), "dst", f.remoteAddress())), f.srttUs() * 1000);
            }
        }
        Path profile = Files.createTempDirectory("snk-chromium");
        Path shot = Path.of("target", "microbpf-page.png").toAbsolutePath();
        try {
            String dom = chromium(profile, "--dump-dom", server.base() + "/");
            Matcher m = Pattern.compile("<path class=\"cdf\"[^>]*data-series=\"([^\"]*)\"[^>]*data-points=\"(\\d+)\"[^>]*data-count=\"(\\d+)\"").matcher(dom);
            Map<String, int[]> series = new java.util.TreeMap<>();
            while (m.find()) {
                series.put(m.group(1), new int[] {Integer.parseInt(m.group(2)), Integer.parseInt(m.group(3))});
            }
            assertTrue(series.containsKey("think 0 ms") && series.containsKey("think 2 ms") && series.containsKey("127.0.0.1 127.0.0.1"),
                    "plotted series: " + series.keySet() + "\n" + dom);
            for (Map.Entry<String, int[]> e : series.entrySet()) {
                assertTrue(e.getValue()[0] >= 2 && e.getValue()[1] > 0, "series " + e.getKey() + " is drawn with data");
            }
            assertEquals(200, series.get("think 2 ms")[1]);
            for (int[] p : ports) {
                assertTrue(dom.contains("127.0.0.1:" + p[0]) && dom.contains("127.0.0.1:" + p[1]), "flow table lists our flow " + p[0]);
            }
            assertTrue(dom.contains("<tr class=\"flow\">"), "flow rows");
            chromium(profile, "--screenshot=" + shot, "--window-size=1000,1100", server.base() + "/");
            assertTrue(Files.size(shot) > 10_000, "screenshot written: " + shot);
            String keep = System.getProperty("microbpf.screenshot");
            if (keep != null) {
                Files.copy(shot, Path.of(keep), StandardCopyOption.REPLACE_EXISTING);
            }
        } finally {
            try (var files = Files.walk(profile)) {
                files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    static String chromium(Path profile, String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("/usr/bin/chromium", "--headless", "--no-sandbox", "--disable-gpu",
                "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--user-data-dir=" + profile, "--virtual-time-budget=6000"));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.DISCARD).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "chromium finished");
        assertEquals(0, p.exitValue(), "chromium " + String.join(" ", args));
        return out;
    }
}
