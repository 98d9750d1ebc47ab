package io.microbpf.probe.app.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.microbpf.api.Clocks;
import io.microbpf.api.ProbeState;
import io.microbpf.probe.app.AppExchangeEvent;
import io.microbpf.test.CapturingPublisher;
import io.microbpf.test.KernelTestSupport;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The seed's testbed between two namespaces: nginx (the Debian package) serving a static page, and
 * ApacheBench at concurrency 10 from the other namespace. Ground truth is ab's own report: every
 * request it completed must appear exactly once on the server side and once on the client side, and
 * for each request the client's request → response time covers the server's think time.
 */
class NginxAbKernelTest {
    static final int PORT = 23030;
    static final int REQUESTS = 2000;
    static final CapturingPublisher PUBLISHER = new CapturingPublisher();
    static AppProbeComponent probe;

    @BeforeAll
    static void start() {
        KernelTestSupport.requireKernel();
        for (String tool : new String[] {"nginx", "ab"}) {
            if (NetNsExec.which(tool) == null) {
                String why = tool + " is not installed (scripts/setup-host.sh installs nginx and apache2-utils)";
                if ("true".equalsIgnoreCase(System.getenv("CI"))) {
                    fail(why);
                }
                Assumptions.abort(why);
            }
        }
        probe = new AppProbeComponent();
        probe.setPublisher(PUBLISHER);
        probe.activate(Map.of("filter.ports", Integer.toString(PORT)));
        assertEquals(ProbeState.RUNNING, probe.state(), "probe did not start: " + probe.problem());
    }

    @AfterAll
    static void stop() {
        if (probe != null) {
            probe.deactivate();
        }
    }

    /** Writes an nginx configuration for one server on addr:PORT with a page of pageBytes. */
    static Path nginxConf(Path dir, String listen, int pageBytes) throws IOException {
        Path www = Files.createDirectories(dir.resolve("www"));
        Files.write(www.resolve("index.html"), "x".repeat(pageBytes).getBytes());
        String conf = """
                daemon off;
                master_process on;
                worker_processes 1;
                user root;
                pid %1$s/nginx.pid;
                error_log %1$s/error.log warn;
                events { worker_connections 1024; }
                http {
                    access_log off;
                    sendfile off;
                    tcp_nodelay on;
                    keepalive_timeout 60;
                    keepalive_requests 1000000;
                    client_body_temp_path %1$s/body;
                    proxy_temp_path %1$s/proxy;
                    fastcgi_temp_path %1$s/fastcgi;
                    uwsgi_temp_path %1$s/uwsgi;
                    scgi_temp_path %1$s/scgi;
                    server {
                        listen %2$s:%3$d;
                        root %1$s/www;
                    }
                }
                """.formatted(dir, listen, PORT);
        Path file = dir.resolve("nginx.conf");
        Files.writeString(file, conf);
        return file;
    }

    static long field(String report, String name) {
        Matcher m = Pattern.compile("^" + Pattern.quote(name) + ":\\s+(\\d+)", Pattern.MULTILINE).matcher(report);
        assertTrue(m.find(), name + " missing from ab's report:\n" + report);
        return Long.parseLong(m.group(1));
    }

    @ParameterizedTest(name = "IPv6={0} keepAlive={1} page={2}B")
    @CsvSource({"false, true, 2000", "true, true, 100000", "false, false, 2000"})
    void everyRequestAbCompletedAppearsOnceOnEachSideAndClientTimeCoversServerThink(boolean v6, boolean keepAlive,
            int pageBytes) throws Exception {
        Path dir = Files.createTempDirectory("app-nginx-");
        long t0 = Clocks.monotonicNs(); // namespace inodes are reused: only this run's events count
        try (Testbed bed = Testbed.create()) {
            String host = bed.serverAddress(v6).getHostAddress();
            String listen = v6 ? "[" + host + "]" : host;
            Path conf = nginxConf(dir, listen, pageBytes);
            try (NetNsExec nginx = NetNsExec.start(bed.server, "nginx", "-c", conf.toString(), "-e",
                    dir.resolve("error.log").toString())) {
                nginx.awaitListening(PORT, 10_000, dir.resolve("error.log"));
                List<String> ab = new ArrayList<>(List.of("ab", "-q", "-c", "10", "-n", Integer.toString(REQUESTS)));
                if (keepAlive) {
                    ab.add("-k");
                }
                ab.add("http://" + listen + ":" + PORT + "/index.html");
                NetNsExec.Result r = NetNsExec.run(bed.client, 120, ab.toArray(String[]::new));
                assertEquals(0, r.exit(), r.output());
                long complete = field(r.output(), "Complete requests");
                assertEquals(0, field(r.output(), "Failed requests"), r.output());
                assertEquals(REQUESTS, complete, r.output());
                System.out.printf("ab IPv6=%s keepAlive=%s page=%dB: %d complete, %s%n", v6, keepAlive, pageBytes,
                        complete, r.output().lines().filter(l -> l.startsWith("Requests per second")
                                || l.startsWith("Keep-Alive requests")).toList());

                long serverNs = bed.server.inode();
                long clientNs = bed.client.inode();
                List<AppExchangeEvent> onServer = PUBLISHER.await(AppExchangeEvent.class,
                        e -> e.monotonicNs() > t0 && e.netnsInode() == serverNs && e.localPort() == PORT, (int) complete, 15_000);
                List<AppExchangeEvent> onClient = PUBLISHER.await(AppExchangeEvent.class,
                        e -> e.monotonicNs() > t0 && e.netnsInode() == clientNs && e.remotePort() == PORT, (int) complete, 15_000);
                Thread.sleep(500); // nothing more may come
                onServer = PUBLISHER.await(AppExchangeEvent.class,
                        e -> e.monotonicNs() > t0 && e.netnsInode() == serverNs && e.localPort() == PORT, 0, 0);
                onClient = PUBLISHER.await(AppExchangeEvent.class,
                        e -> e.monotonicNs() > t0 && e.netnsInode() == clientNs && e.remotePort() == PORT, 0, 0);
                assertExactlyOnce(onServer, complete, AppExchangeEvent.SERVER, "nginx");
                assertExactlyOnce(onClient, complete, AppExchangeEvent.CLIENT, "ab");

                // pair each request across the two ends: the client's port and the request's first sequence number
                Map<String, AppExchangeEvent> server = new HashMap<>();
                onServer.forEach(e -> server.put(e.remotePort() + "/" + e.requestStartSeq(), e));
                long worst = Long.MAX_VALUE;
                for (AppExchangeEvent c : onClient) {
                    AppExchangeEvent s = server.get(c.localPort() + "/" + c.requestStartSeq());
                    assertTrue(s != null, "no server exchange for " + c.summary());
                    assertEquals(s.requestBytes(), c.requestBytes(), c.summary() + " vs " + s.summary());
                    assertTrue(c.requestNs() - s.thinkNs() >= 0, c.summary() + " vs " + s.summary());
                    assertTrue(c.requestNs() >= s.queueNs() + s.thinkNs() + s.sendNs(), c.summary() + " vs " + s.summary());
                    worst = Math.min(worst, c.requestNs() - s.thinkNs());
                }
                System.out.printf("  %d pairs; smallest (client request - server think) %.1f µs; server think p50 %.1f µs,"
                        + " client request p50 %.1f µs%n", onClient.size(), worst / 1e3,
                        AppProbeKernelTest.median(AppProbeKernelTest.values(onServer, AppExchangeEvent::thinkNs)) / 1e3,
                        AppProbeKernelTest.median(AppProbeKernelTest.values(onClient, AppExchangeEvent::requestNs)) / 1e3);
            }
        } finally {
            NetNsExec.deleteTree(dir);
        }
    }

    static void assertExactlyOnce(List<AppExchangeEvent> side, long complete, String role, String comm) {
        Set<String> ids = new HashSet<>();
        long answered = 0;
        for (AppExchangeEvent e : side) {
            assertEquals(role, e.role(), e.summary());
            assertTrue(ids.add(e.socketCookie() + "#" + e.index()), "twice: " + e.summary());
            assertTrue(e.answered(), e.summary());
            assertEquals(comm, e.comm(), e.summary());
            AppProbeKernelTest.assertPhasesPresent(e);
            if (role.equals(AppExchangeEvent.SERVER)) {
                assertTrue(e.queueNs() >= 0, "nginx's request was seen queued: " + e);
            }
            answered++;
        }
        assertEquals(complete, answered, role + " exchanges vs ab's completed requests");
    }
}
