package io.microbpf.api.probe;

import io.microbpf.api.Event;
import io.microbpf.api.EventPublisher;
import io.microbpf.api.HookReport;
import io.microbpf.api.Probe;
import io.microbpf.api.ProbeState;
import io.microbpf.api.bpf.AttachPoint;
import io.microbpf.api.bpf.BpfObject;
import io.microbpf.api.bpf.HookCandidate;
import io.microbpf.api.bpf.HookSelector;
import io.microbpf.api.bpf.KernelHookTrial;
import io.microbpf.api.bpf.RingBufferReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Base of every probe component: picks a hook per attach point, loads and attaches the BPF object,
 * reads its ring buffer on a dedicated thread, decodes records into events and publishes them in
 * batches; applies configuration live.
 *
 * <p>Owner of everything it opens: the BPF object (programs, maps, links), the ring buffer mmap and
 * its reader thread. {@link #stop()} releases all of them; a DS component calls {@link #release()} on
 * deactivate.
 *
 * <p>Whether it runs: a probe runs when its configuration is valid and enabled and nobody stopped it.
 * {@link #stop()} (the user's {@code probe-stop}) is remembered: a configuration change is then
 * validated and kept but does not start the probe; {@link #start()} (the user's {@code probe-start})
 * starts it with the latest configuration. {@code enabled=false} stops it and {@code enabled=true}
 * starts it again, unless the user stopped it. A probe that failed on a bad configuration starts
 * when a good one arrives. {@link #problem()} says which of these holds a probe back.
 *
 * @param <C> the probe's own settings, parsed from its configuration (must implement equals)
 */
public abstract class BpfProbe<C> implements Probe {
    /** Settings every probe has. */
    public record CommonConfig(boolean enabled, int ringBytes, int batchMaxEvents) {}

    protected final Logger log = LoggerFactory.getLogger(getClass());
    private final String id;
    private final String family;
    private final String pid;
    private volatile ProbeState state = ProbeState.STOPPED;
    private volatile String problem;
    private volatile List<HookReport> hooks = List.of();
    private volatile EventPublisher publisher;
    private CommonConfig common = new CommonConfig(true, 4 << 20, 4096);
    private volatile C config; // read by the reader thread without the probe's lock
    private Running running;
    /** Set by {@link #stop()}, cleared by {@link #start()}: configuration changes do not start the probe. */
    private volatile boolean stoppedByUser;
    private long eventsBefore;
    private long lostBefore;

    protected BpfProbe(String id, String family, String pid) {
        this.id = id;
        this.family = family;
        this.pid = pid;
    }

    /** Name of the object inside the bundle: {@code /bpf/<name>.bpf.o}. */
    protected abstract String objectName();

    protected abstract List<AttachPoint> attachPoints();

    /**
     * Programs loaded with the chosen hooks but never attached: helpers that user space runs with
     * BPF_PROG_TEST_RUN (e.g. a map refresher). Empty by default.
     */
    protected Set<String> helperPrograms() {
        return Set.of();
    }

    /** Parses this probe's own keys (the common ones are read by the base). */
    protected abstract C parseConfig(ConfigReader reader);

    /** Sets constants and map sizes before load; called for hook trials and the real load. */
    protected void configureObject(BpfObject obj, C config) {}

    /** Decodes one ring buffer record into zero or more events. */
    protected abstract void decode(ByteBuffer ring, int offset, int length, List<Event> out);

    /** Called once per reader loop (at least every 200 ms) while running; may add events. */
    protected void onTick(BpfObject obj, List<Event> out) {}

    /** The ELF bytes; by default the bundle resource {@code /bpf/<objectName>.bpf.o}. */
    protected byte[] objectBytes() {
        String resource = "/bpf/" + objectName() + ".bpf.o";
        try (InputStream in = getClass().getResourceAsStream(resource)) {
            if (in == null) {
                throw new IllegalStateException("BPF object " + resource + " is missing from the bundle");
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public void setPublisher(EventPublisher publisher) {
        this.publisher = publisher;
    }

    /** The settings in force; safe from the reader thread (never takes the probe's lock). */
    protected C config() {
        return config;
    }

    /** {@link #problem()} of a probe stopped by {@link #stop()} (the shell's {@code probe-stop}). */
    public static final String STOPPED_BY_USER = "stopped by probe-stop (until probe-start)";

    /**
     * Applies a configuration: an invalid one is rejected whole (one message; the probe keeps its
     * previous settings and state); a valid one starts, restarts or stops the probe as needed, except
     * that a probe stopped by {@link #stop()} only takes the settings and stays stopped until
     * {@link #start()}.
     */
    public synchronized void applyConfig(Map<String, ?> props) {
        ConfigReader r = new ConfigReader(pid, props);
        CommonConfig newCommon = new CommonConfig(
                r.getBoolean("enabled", true),
                r.getPowerOfTwo("ringbuf.bytes", 4 << 20, 4096, 1 << 28),
                r.getInt("batch.max.events", 4096, 1, 1 << 20));
        C newConfig = parseConfig(r);
        try {
            r.validate();
        } catch (ConfigException e) {
            problem = e.getMessage() + (config == null ? "" : " (keeping the previous configuration)");
            log.error("{}", problem);
            if (config == null && !stoppedByUser) {
                state = ProbeState.FAILED;
            }
            return;
        }
        boolean changed = !newCommon.equals(common) || !Objects.equals(newConfig, config);
        common = newCommon;
        config = newConfig;
        if (!common.enabled()) {
            if (running != null) {
                log.info("probe {}: disabled in configuration, stopping", id);
            }
            stopKeepingUserStop();
            problem = disabledProblem();
        } else if (stoppedByUser) {
            problem = null;
            log.info("probe {}: configuration applied; it stays stopped (probe-stop) until probe-start", id);
        } else if (running == null) {
            start();
        } else if (changed) {
            log.info("probe {}: configuration changed, restarting", id);
            stopKeepingUserStop();
            start();
        }
    }

    /** {@link #stop()} for the configuration's sake: does not count as the user's stop. */
    private void stopKeepingUserStop() {
        boolean byUser = stoppedByUser;
        stop();
        stoppedByUser = byUser;
    }

    private String disabledProblem() {
        return "disabled in configuration (enabled=false in " + pid + ")";
    }

    /**
     * Loads and attaches with the latest configuration, and ends a {@link #stop()}: configuration
     * changes start and restart the probe again. A probe its configuration disables is not started
     * ({@link #problem()} says so); it starts when {@code enabled=true} arrives.
     */
    @Override
    public synchronized void start() {
        stoppedByUser = false;
        if (running != null) {
            return;
        }
        if (!common.enabled()) {
            problem = disabledProblem();
            state = ProbeState.STOPPED;
            log.warn("probe {} not started: {}", id, problem);
            return;
        }
        problem = null;
        Preconditions.Result pre = Preconditions.checkSystem();
        pre.warnings().forEach(w -> log.warn("probe {}: {}", id, w));
        if (!pre.ok()) {
            fail(String.join("; ", pre.fatal()));
            return;
        }
        if (config == null) {
            config = parseConfig(new ConfigReader(pid, Map.of()));
        }
        C cfg = config;
        CommonConfig com = common;
        BpfObject obj = null;
        RingBufferReader reader = null;
        try {
            byte[] elf = objectBytes();
            Consumer<BpfObject> configure = o -> {
                o.map("events").setMaxEntries(com.ringBytes());
                configureObject(o, cfg);
            };
            HookSelector.Selection sel = HookSelector.select(attachPoints(),
                    new KernelHookTrial(objectName(), elf, configure));
            hooks = sel.reports();
            for (HookReport r : sel.reports()) {
                log.info("probe {}: {} -> {}{}", id, r.attachPoint(), r.chosen() == null ? "none" : r.chosen(),
                        r.rejected().isEmpty() ? "" : " (rejected: " + String.join(" | ", r.rejected()) + ")");
            }
            if (!sel.complete()) {
                fail(sel.problem());
                return;
            }
            obj = BpfObject.open(objectName(), elf);
            Set<String> programs = new HashSet<>();
            for (HookCandidate c : sel.chosen().values()) {
                programs.add(c.program());
            }
            programs.addAll(helperPrograms());
            obj.loadOnly(programs);
            configure.accept(obj);
            obj.load();
            for (HookCandidate c : sel.chosen().values()) {
                obj.attach(c.program(), c.kind());
            }
            BpfObject loaded = obj;
            reader = RingBufferReader.open(obj.map("events"), () -> loaded.map("events_lost").sumPerCpuU64(0));
            running = new Running(obj, reader, com.batchMaxEvents());
            running.thread.start();
            state = ProbeState.RUNNING;
            log.info("probe {} running", id);
        } catch (RuntimeException e) {
            if (reader != null) {
                reader.close();
            }
            if (obj != null) {
                obj.close();
            }
            fail(e.getMessage());
        }
    }

    /**
     * Detaches and releases everything (see {@link Probe#stop()}) and keeps the probe stopped:
     * configuration changes are applied but do not start it until {@link #start()}. A subclass that
     * overrides it must call it; the base class also calls it to restart or disable the probe.
     */
    @Override
    public synchronized void stop() {
        stoppedByUser = true;
        problem = common.enabled() ? null : disabledProblem();
        Running r = running;
        running = null;
        if (r != null) {
            r.close();
            eventsBefore += r.reader.events();
            lostBefore += r.lostAtClose;
            log.info("probe {} stopped", id);
        }
        state = ProbeState.STOPPED;
    }

    /**
     * {@link #stop()} at the end of a component's life (DS deactivate, bundle stop): releases the same,
     * but is not the user's stop, so a later activation of this instance starts from its configuration.
     */
    public synchronized void release() {
        stop();
        stoppedByUser = false;
    }

    private void fail(String why) {
        problem = why;
        state = ProbeState.FAILED;
        log.error("probe {} failed to start: {}", id, why);
    }

    @Override
    public String id() {
        return id;
    }

    @Override
    public String family() {
        return family;
    }

    @Override
    public ProbeState state() {
        return state;
    }

    @Override
    public List<HookReport> hooks() {
        return hooks;
    }

    /**
     * Why the probe is not running (or, while running, a configuration it rejected); a probe the user
     * stopped says {@link #STOPPED_BY_USER} first, then anything else that holds it back.
     */
    @Override
    public String problem() {
        String p = problem;
        if (stoppedByUser && state != ProbeState.RUNNING) {
            return p == null ? STOPPED_BY_USER : STOPPED_BY_USER + "; " + p;
        }
        return p;
    }

    @Override
    public synchronized long events() {
        return eventsBefore + (running == null ? 0 : running.reader.events());
    }

    @Override
    public synchronized long lost() {
        return lostBefore + (running == null ? 0 : running.reader.lost());
    }

    /** Events that failed to decode (malformed records), since start. */
    public long decodeErrors() {
        Running r = running;
        return r == null ? 0 : r.decodeErrors;
    }

    /** One started instance: the loaded object, its ring reader and the thread that reads it. */
    private final class Running {
        final BpfObject obj;
        final RingBufferReader reader;
        final Thread thread;
        final int batchMax;
        volatile long decodeErrors;
        long lostAtClose;

        Running(BpfObject obj, RingBufferReader reader, int batchMax) {
            this.obj = obj;
            this.reader = reader;
            this.batchMax = batchMax;
            this.thread = new Thread(this::loop, "microbpf-probe-" + id);
            this.thread.setDaemon(true);
        }

        private void loop() {
            final List<Event> batch = new ArrayList<>();
            RingBufferReader.RecordHandler handler = (buf, off, len) -> {
                try {
                    decode(buf, off, len, batch);
                } catch (RuntimeException e) {
                    decodeErrors++;
                }
            };
            while (true) {
                int n;
                try {
                    n = reader.poll(handler, batchMax, 200);
                    onTick(obj, batch);
                } catch (RuntimeException e) {
                    log.error("probe {}: reader stopped: {}", id, e.toString());
                    problem = "reader stopped: " + e.getMessage();
                    state = ProbeState.FAILED;
                    return;
                }
                if (!batch.isEmpty()) {
                    EventPublisher p = publisher;
                    if (p != null) {
                        p.publish(new ArrayList<>(batch));
                    }
                    batch.clear();
                }
                if (n < 0) {
                    return;
                }
            }
        }

        void close() {
            reader.wakeup();
            try {
                thread.join(5000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            try {
                lostAtClose = reader.lost();
            } catch (RuntimeException e) {
                lostAtClose = 0;
            }
            reader.close();
            obj.close();
        }
    }
}
