package io.microbpf.sink.console;

import io.microbpf.api.Event;
import io.microbpf.api.EventSink;
import java.io.PrintStream;
import java.time.Instant;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * Prints events for a person watching a terminal. In {@code summary} mode (the default) it prints, per
 * interval and event type, one line with the count and the latest event, so a flood never drowns the
 * terminal; in {@code events} mode one line per event, capped per interval (the rest counted).
 * Plain Java: {@link ConsoleSinkComponent} wires it into OSGi, tests drive it directly.
 */
public final class ConsoleSink implements EventSink {
    /** Settings; {@code types} empty means every type. */
    public record Settings(String mode, long intervalMs, Set<String> types, int maxLinesPerInterval) {}

    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("HH:mm:ss.SSS").withZone(ZoneId.systemDefault());

    private final PrintStream out;
    private volatile Settings settings;
    private final Map<String, Long> counts = new TreeMap<>();
    private final Map<String, Event> latest = new TreeMap<>();
    private int linesThisInterval;
    private long suppressed;

    public ConsoleSink(PrintStream out, Settings settings) {
        this.out = out;
        this.settings = settings;
    }

    public void setSettings(Settings settings) {
        this.settings = settings;
    }

    public Settings settings() {
        return settings;
    }

    @Override
    public String name() {
        return "console";
    }

    @Override
    public boolean accepts(String eventType) {
        Set<String> types = settings.types();
        return types.isEmpty() || types.contains(eventType);
    }

    @Override
    public synchronized void deliver(List<Event> batch) {
        boolean perEvent = "events".equals(settings.mode());
        for (Event e : batch) {
            if (!accepts(e.type())) {
                continue; // the filter may have changed since the dispatcher cached it
            }
            if (perEvent) {
                if (linesThisInterval < settings.maxLinesPerInterval()) {
                    out.println(line(e));
                    linesThisInterval++;
                } else {
                    suppressed++;
                }
            } else {
                summarised(e);
            }
        }
        flushRun();
    }

    // summary mode counts runs of one type (a batch is mostly one type) and updates the maps once per run
    private String runType;
    private Event runLatest;
    private long runCount;

    private void summarised(Event e) {
        if (!e.type().equals(runType)) {
            flushRun();
            runType = e.type();
        }
        runLatest = e;
        runCount++;
    }

    private void flushRun() {
        if (runCount > 0) {
            counts.merge(runType, runCount, Long::sum);
            latest.put(runType, runLatest);
        }
        runType = null;
        runLatest = null;
        runCount = 0;
    }

    /** Ends an interval: prints the summary lines (or the count of suppressed lines). */
    public synchronized void tick(long nowMs) {
        String time = TIME.format(Instant.ofEpochMilli(nowMs));
        for (Map.Entry<String, Long> c : counts.entrySet()) {
            out.printf("[microbpf %s] %-16s %6d in %dms  latest: %s%n", time, c.getKey(), c.getValue(),
                    settings.intervalMs(), latest.get(c.getKey()).summary());
        }
        if (suppressed > 0) {
            out.printf("[microbpf %s] ... %d more events in the last %dms not shown (max.lines.per.interval=%d)%n",
                    time, suppressed, settings.intervalMs(), settings.maxLinesPerInterval());
        }
        counts.clear();
        latest.clear();
        linesThisInterval = 0;
        suppressed = 0;
        out.flush();
    }

    static String line(Event e) {
        return "[microbpf " + TIME.format(Instant.ofEpochMilli(e.wallClockNs() / 1_000_000)) + "] " + e.type() + " " + e.summary();
    }
}
