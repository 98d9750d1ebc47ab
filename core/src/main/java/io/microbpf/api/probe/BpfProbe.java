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
 * its reader thread. {@link #stop()} releases all of them; a DS component calls it on deactivate.
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

    /**
     * Applies a configuration: an invalid one is rejected whole (one message; the probe keeps its
     * previous settings and state); a valid one starts, restarts or stops the probe as needed.
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
            if (config == null) {
                state = ProbeState.FAILED;
            }
            return;
        }
        boolean changed = !newCommon.equals(common) || !Objects.equals(newConfig, config);
        common = newCommon;
        config = newConfig;
        if (!common.enabled()) {
            stop();
            problem = "disabled in configuration (enabled=false)";
        } else if (running == null) {
            start();
        } else if (changed) {
            log.info("probe {}: configuration changed, restarting", id);
            stop();
            start();
        }
    }

    @Override
    public synchronized void start() {
        if (running != null) {
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

    @Override
    public synchronized void stop() {
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

    @Override
    public String problem() {
        return problem;
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
