package io.microbpf.probe.app.bench;

import io.microbpf.api.HookReport;
import io.microbpf.api.ProbeState;
import io.microbpf.probe.app.AppLatency;
import io.microbpf.probe.app.internal.AppProbeComponent;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Collectors;

/**
 * Runs the app probe outside Karaf for bench/run-app-overhead-bench.sh: reads one command per line on
 * standard input ({@code start}, {@code stop}, {@code counts}, {@code quit}) and answers one line each.
 * Published events are only counted. Owner of the probe it starts; {@code quit} (or end of input) stops it.
 */
public final class AppProbeHost {
    private AppProbeHost() {}

    public static void main(String[] args) throws Exception {
        Map<String, Object> config = new HashMap<>();
        for (String a : args) {
            int eq = a.indexOf('=');
            config.put(a.substring(0, eq), a.substring(eq + 1));
        }
        AtomicLong published = new AtomicLong();
        AppProbeComponent probe = new AppProbeComponent();
        probe.setPublisher(batch -> published.addAndGet(batch.size()));
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        try {
            String line;
            while ((line = in.readLine()) != null) {
                switch (line.strip()) {
                    case "start" -> {
                        probe.activate(config);
                        System.out.println(probe.state() == ProbeState.RUNNING ? "RUNNING " + probe.hooks().stream()
                                .map(HookReport::chosen).collect(Collectors.joining(",")) : "FAILED " + probe.problem());
                    }
                    case "stop" -> {
                        probe.deactivate();
                        System.out.println("STOPPED");
                    }
                    case "counts" -> {
                        AppLatency.Counts c = probe.counts();
                        System.out.println("COUNTS answered=" + c.answered() + " closed=" + c.closed() + " timedOut="
                                + c.timedOut() + " evicted=" + c.evicted() + " published=" + published.get()
                                + " lost=" + probe.lost());
                    }
                    case "quit" -> {
                        return;
                    }
                    default -> System.out.println("ERROR unknown command " + line);
                }
                System.out.flush();
            }
        } finally {
            probe.deactivate();
        }
    }
}
