package io.microbpf.collector.e2e;

import com.fasterxml.jackson.databind.ObjectMapper;

import io.microbpf.api.EventPublisher;
import io.microbpf.clocksync.internal.ClockSyncComponent;
import io.microbpf.collector.internal.CollectorComponent;
import io.microbpf.probe.nic.NicSegmentEvent;
import io.microbpf.probe.nic.internal.NicProbeComponent;
import io.microbpf.sink.http.PushSink;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.URI;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * One agent process of the multi-host test: the same components the Karaf features install
 * (clock sync, the nic probe, the HTTP push sink, and on the measurement node the collector), wired
 * by hand instead of by SCR so that a host costs one small JVM instead of a Karaf instance. Runs in
 * the network namespace it was started in ({@code ip netns exec}).
 *
 * <p>Arguments: {@code key=value} pairs; keys prefixed {@code clock.}, {@code nic.}, {@code collector.}
 * go to that component's configuration (prefix removed); {@code push.url} is where the push sink posts.
 * Commands on stdin, one per line, each answered by one line {@code RESULT <json>} on stdout:
 * {@code clock}, {@code nic}, {@code netlat}, {@code reset}, {@code quit}.
 */
public final class AgentMain {
    private AgentMain() {}

    public static void main(String[] args) throws Exception {
        Map<String, String> clockCfg = new HashMap<>();
        Map<String, String> nicCfg = new HashMap<>();
        Map<String, String> collectorCfg = new HashMap<>();
        String pushUrl = null;
        for (String a : args) {
            int eq = a.indexOf('=');
            String k = a.substring(0, eq);
            String v = a.substring(eq + 1);
            if (k.startsWith("clock.")) {
                clockCfg.put(k.substring(6), v);
            } else if (k.startsWith("nic.")) {
                nicCfg.put(k.substring(4), v);
            } else if (k.startsWith("collector.")) {
                collectorCfg.put(k.substring(10), v);
            } else if (k.equals("push.url")) {
                pushUrl = v;
            } else {
                throw new IllegalArgumentException("unknown argument " + a);
            }
        }
        ObjectMapper json = new ObjectMapper();
        ClockSyncComponent clock = new ClockSyncComponent();
        clock.activate(new HashMap<>(clockCfg));
        if (clock.problem() != null) {
            throw new IllegalStateException(clock.problem());
        }
        CollectorComponent collector = null;
        if (!collectorCfg.isEmpty()) {
            collector = new CollectorComponent();
            collector.bindClock(clock);
            collector.activate(new HashMap<>(collectorCfg));
            if (collector.problem() != null) {
                throw new IllegalStateException(collector.problem());
            }
        }
        PushSink push = new PushSink(new PushSink.Settings(URI.create(pushUrl), clock.agentId(), 1_000_000, 2000, 50, 1000,
                5000, Set.of(NicSegmentEvent.TYPE)), json);
        EventPublisher publisher = batch -> {
            try {
                push.deliver(batch);
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        };
        NicProbeComponent nic = new NicProbeComponent();
        nic.setPublisher(publisher);
        nic.bindClock(clock);
        nic.activate(new HashMap<>(nicCfg));
        if (nic.problem() != null) {
            throw new IllegalStateException(nic.problem());
        }
        System.out.println("READY " + clock.agentId());
        System.out.flush();
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in));
        String line;
        while ((line = in.readLine()) != null) {
            Object result;
            switch (line.strip()) {
                case "clock" -> result = clock.peers();
                case "nic" -> {
                    Map<String, Object> m = new LinkedHashMap<>();
                    m.put("hooks", nic.hooks());
                    m.put("events", nic.events());
                    m.put("lost", nic.lost());
                    m.put("counters", nic.counters());
                    m.put("pushSent", push.sent());
                    m.put("pushDropped", push.dropped());
                    m.put("pushPending", push.pending());
                    result = m;
                }
                case "netlat" -> {
                    Map<String, Object> m = new LinkedHashMap<>();
                    m.put("stats", collector == null ? null : collector.stats());
                    m.put("summaries", collector == null ? List.of() : collector.summaries(true));
                    result = m;
                }
                case "reset" -> {
                    if (collector != null) {
                        collector.reset();
                    }
                    result = "ok";
                }
                case "quit" -> {
                    nic.deactivate();
                    push.close();
                    if (collector != null) {
                        collector.deactivate();
                    }
                    clock.deactivate();
                    System.out.println("RESULT \"bye\"");
                    System.out.flush();
                    return;
                }
                default -> result = "unknown command " + line;
            }
            System.out.println("RESULT " + json.writeValueAsString(result));
            System.out.flush();
        }
    }

}
