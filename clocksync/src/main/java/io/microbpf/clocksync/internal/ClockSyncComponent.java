package io.microbpf.clocksync.internal;

import io.microbpf.api.Clocks;
import io.microbpf.api.probe.ConfigException;
import io.microbpf.api.probe.ConfigReader;
import io.microbpf.clocksync.AgentClock;
import io.microbpf.clocksync.ClockSync;
import io.microbpf.clocksync.PeerClock;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Modified;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Clock synchronisation between agents: answers every clock-sync request on its UDP port and probes
 * each configured peer with bursts of NTP-style four-timestamp exchanges, keeping per peer an offset,
 * its error bound and drift ({@link OffsetEstimator}). Timestamps are this agent's record clock
 * ({@link AgentClock}): CLOCK_MONOTONIC (the clock of {@code bpf_ktime_get_ns()}) plus the test-only
 * injected offset. Config PID {@code io.microbpf.clocksync}.
 *
 * <p>Owner of its UDP socket and two threads (receiver, prober); {@link #stop()} closes and joins them.
 */
@Component(name = ClockSyncComponent.PID, service = {ClockSync.class, AgentClock.class},
        configurationPolicy = ConfigurationPolicy.OPTIONAL, immediate = true)
public class ClockSyncComponent implements ClockSync {
    public static final String PID = "io.microbpf.clocksync";
    private static final Logger LOG = LoggerFactory.getLogger(ClockSyncComponent.class);

    /** A configured peer. */
    public record Peer(String id, String host, int port) {
        String address() {
            return host + ":" + port;
        }
    }

    /**
     * @param agentId our id
     * @param listenAddress UDP address the endpoint binds
     * @param listenPort its port (0: any, for tests)
     * @param peers whom we probe
     * @param intervalMs time between bursts
     * @param burst exchanges per peer per burst
     * @param window exchanges kept per peer
     * @param timeoutMs a reply later than this is ignored
     * @param injectedOffsetNs test knob: added to every CLOCK_MONOTONIC reading of this agent
     */
    public record Settings(boolean enabled, String agentId, String listenAddress, int listenPort, List<Peer> peers,
            long intervalMs, int burst, int window, long timeoutMs, long injectedOffsetNs) {}

    private record Pending(String peerId, long sentMonoNs) {}

    private volatile Settings settings;
    private volatile String problem;
    private volatile long injectedOffsetNs;
    private volatile String agentId = defaultAgentId();
    private Running running;

    @Activate
    public void activate(Map<String, Object> props) {
        applyConfig(props);
    }

    @Modified
    void modified(Map<String, Object> props) {
        applyConfig(props);
    }

    @Deactivate
    public void deactivate() {
        stop();
    }

    static String defaultAgentId() {
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (UnknownHostException e) {
            return "agent";
        }
    }

    static Settings parse(Map<String, ?> props) {
        ConfigReader r = new ConfigReader(PID, props);
        boolean enabled = r.getBoolean("enabled", true);
        String id = r.getString("agent.id", defaultAgentId());
        if (id.length() > 255 || id.contains("@") || id.contains(",")) {
            r.error("agent.id=" + id + " must be at most 255 bytes without '@' or ','");
        }
        String listen = r.getString("listen.address", "0.0.0.0");
        int port = r.getInt("listen.port", 7787, 0, 65535);
        List<Peer> peers = new ArrayList<>();
        for (String p : r.getList("peers")) {
            int at = p.indexOf('@');
            int colon = p.lastIndexOf(':');
            if (at <= 0 || colon < at + 2 || colon == p.length() - 1) {
                r.error("peers: '" + p + "' is not id@host:port");
                continue;
            }
            try {
                int pp = Integer.parseInt(p.substring(colon + 1));
                if (pp < 1 || pp > 65535) {
                    throw new NumberFormatException();
                }
                String host = p.substring(at + 1, colon);
                if (host.startsWith("[") && host.endsWith("]")) {
                    host = host.substring(1, host.length() - 1);
                }
                peers.add(new Peer(p.substring(0, at), host, pp));
            } catch (NumberFormatException e) {
                r.error("peers: '" + p + "' has no valid port");
            }
        }
        long interval = r.getLong("interval.ms", 1000, 10, 3_600_000);
        int burst = r.getInt("burst", 4, 1, 64);
        int window = r.getInt("window", 32, 1, 4096);
        long timeout = r.getLong("timeout.ms", 200, 1, 60_000);
        long injected = r.getLong("test.injected.offset.ns", 0, -86_400_000_000_000L, 86_400_000_000_000L);
        r.validate();
        return new Settings(enabled, id, listen, port, List.copyOf(peers), interval, burst, window, timeout, injected);
    }

    /** Applies a configuration; an invalid one is rejected whole and the previous one kept. */
    public synchronized void applyConfig(Map<String, ?> props) {
        Settings s;
        try {
            s = parse(props);
        } catch (ConfigException e) {
            problem = e.getMessage() + (settings == null ? "" : " (keeping the previous configuration)");
            LOG.error("{}", problem);
            return;
        }
        if (s.equals(settings) && running != null) {
            return;
        }
        stop();
        settings = s;
        agentId = s.agentId();
        injectedOffsetNs = s.injectedOffsetNs();
        problem = null;
        if (!s.enabled()) {
            problem = "disabled in configuration (enabled=false)";
            return;
        }
        try {
            running = new Running(s);
        } catch (IOException e) {
            problem = "cannot open clock-sync UDP endpoint " + s.listenAddress() + ":" + s.listenPort() + ": " + e;
            LOG.error("{}", problem);
        }
    }

    public synchronized void stop() {
        if (running != null) {
            running.close();
            running = null;
        }
    }

    /** Why the endpoint is not running, or null. */
    public String problem() {
        return problem;
    }

    /** The bound UDP port (useful with listen.port = 0); -1 when not running. */
    public synchronized int boundPort() {
        return running == null ? -1 : running.port;
    }

    @Override
    public String agentId() {
        return agentId;
    }

    @Override
    public long injectedOffsetNs() {
        return injectedOffsetNs;
    }

    @Override
    public long nowNs() {
        return Clocks.monotonicNs() + injectedOffsetNs;
    }

    @Override
    public List<PeerClock> peers() {
        Running r;
        synchronized (this) {
            r = running;
        }
        Settings s = settings;
        if (s == null) {
            return List.of();
        }
        List<PeerClock> out = new ArrayList<>();
        for (Peer p : s.peers()) {
            out.add(r == null ? unsynced(p) : r.view(p));
        }
        return out;
    }

    @Override
    public Optional<PeerClock> peer(String peerId) {
        return peers().stream().filter(p -> p.peerId().equals(peerId)).findFirst();
    }

    private static PeerClock unsynced(Peer p) {
        return new PeerClock(p.id(), p.address(), 0, Long.MAX_VALUE, 0, 0, 0, Long.MAX_VALUE, false);
    }

    /** The open endpoint: socket, receiver thread, prober thread, per-peer estimators. */
    private final class Running {
        final Settings s;
        final TimestampedUdp socket;
        final int port;
        final Thread receiver;
        final Thread prober;
        final Map<String, OffsetEstimator> estimators = new LinkedHashMap<>();
        final Map<String, Long> lastReplyMono = new ConcurrentHashMap<>();
        final Map<Long, Pending> pending = new ConcurrentHashMap<>();
        final AtomicLong nextId = new AtomicLong(new java.security.SecureRandom().nextLong() & Long.MAX_VALUE);
        volatile boolean closing;

        Running(Settings s) throws IOException {
            this.s = s;
            socket = new TimestampedUdp(s.listenAddress(), s.listenPort(), 100);
            port = socket.localPort();
            for (Peer p : s.peers()) {
                estimators.put(p.id(), new OffsetEstimator(s.window()));
            }
            receiver = new Thread(this::receive, "microbpf-clocksync-rx");
            receiver.setDaemon(true);
            prober = new Thread(this::probe, "microbpf-clocksync-probe");
            prober.setDaemon(true);
            receiver.start();
            prober.start();
            LOG.info("clock sync: agent {} on udp {}:{}, {} peer(s), injected offset {} ns", s.agentId(),
                    s.listenAddress(), port, s.peers().size(), s.injectedOffsetNs());
        }

        private void receive() {
            ByteBuffer out = ByteBuffer.allocate(ProbePacket.MAX_BYTES);
            RealtimeToMonotonic realtime = new RealtimeToMonotonic();
            while (!closing) {
                TimestampedUdp.Datagram d;
                try {
                    d = socket.receive();
                } catch (IOException e) {
                    if (!closing) {
                        LOG.warn("clock sync: receive failed: {}", e.toString());
                    }
                    continue;
                }
                if (d == null) {
                    continue;
                }
                // t2 for a request, t4 for a reply: the kernel's receive time, else now
                long t = d.kernelRealtimeNs() != 0
                        ? realtime.toMonotonic(d.kernelRealtimeNs()) + injectedOffsetNs
                        : nowNs();
                ProbePacket p = ProbePacket.parse(d.payload());
                if (p == null) {
                    continue;
                }
                if (p.kind() == ProbePacket.REQUEST) {
                    out.clear();
                    new ProbePacket(ProbePacket.REPLY, p.exchangeId(), p.t1(), t, 0, s.agentId()).writeTo(out);
                    out.flip();
                    try {
                        socket.sendStamped(out, ProbePacket.T3_OFFSET, ClockSyncComponent.this::nowNs, d.from()); // t3
                    } catch (IOException e) {
                        LOG.debug("clock sync: reply to {} failed: {}", d.from(), e.toString());
                    }
                } else {
                    Pending q = pending.remove(p.exchangeId());
                    if (q == null || Clocks.monotonicNs() - q.sentMonoNs() > s.timeoutMs() * 1_000_000L) {
                        continue; // unknown, forged or late
                    }
                    OffsetEstimator est = estimators.get(q.peerId());
                    synchronized (est) {
                        est.add(new OffsetEstimator.Sample(p.t1(), p.t2(), p.t3(), t)); // t1 as we stamped it, echoed
                    }
                    lastReplyMono.put(q.peerId(), Clocks.monotonicNs());
                }
            }
        }

        private void probe() {
            ByteBuffer out = ByteBuffer.allocate(ProbePacket.MAX_BYTES);
            long spacingMs = Math.max(1, Math.min(20, s.intervalMs() / (2L * s.burst())));
            while (!closing) {
                for (int i = 0; i < s.burst() && !closing; i++) {
                    for (Peer peer : s.peers()) {
                        send(peer, out);
                    }
                    sleep(spacingMs);
                }
                long now = Clocks.monotonicNs();
                pending.values().removeIf(q -> now - q.sentMonoNs() > s.timeoutMs() * 1_000_000L);
                sleep(s.intervalMs());
            }
        }

        private void send(Peer peer, ByteBuffer out) {
            InetSocketAddress to = new InetSocketAddress(peer.host(), peer.port());
            if (to.isUnresolved()) {
                return;
            }
            long id = nextId.getAndIncrement();
            out.clear();
            pending.put(id, new Pending(peer.id(), Clocks.monotonicNs()));
            new ProbePacket(ProbePacket.REQUEST, id, 0, 0, 0, s.agentId()).writeTo(out);
            out.flip();
            try {
                socket.sendStamped(out, ProbePacket.T1_OFFSET, ClockSyncComponent.this::nowNs, to); // t1
            } catch (IOException e) {
                pending.remove(id);
                LOG.debug("clock sync: probe to {} failed: {}", peer, e.toString());
            }
        }

        private void sleep(long ms) {
            try {
                Thread.sleep(ms);
            } catch (InterruptedException e) {
                closing = true;
            }
        }

        PeerClock view(Peer p) {
            OffsetEstimator est = estimators.get(p.id());
            OffsetEstimator.Estimate e;
            synchronized (est) {
                e = est.estimate(nowNs());
            }
            if (e == null) {
                return unsynced(p);
            }
            Long last = lastReplyMono.get(p.id());
            long age = last == null ? Long.MAX_VALUE : Clocks.monotonicNs() - last;
            return new PeerClock(p.id(), p.address(), e.offsetNs(), e.errorBoundNs(), e.driftPpm(), e.bestDelayNs(),
                    e.samples(), age, true);
        }

        void close() {
            closing = true;
            socket.shutdown();
            prober.interrupt();
            join(receiver);
            join(prober);
            socket.close();
        }

        private void join(Thread t) {
            try {
                t.join(5000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    @Override
    public String toString() {
        return "ClockSync[" + agentId + ", " + Objects.requireNonNullElse(problem, "ok") + "]";
    }
}
