package io.microbpf.collector.internal;

import io.microbpf.api.latency.LatencySummary;
import io.microbpf.collector.CollectorStats;
import io.microbpf.probe.nic.NicSegmentEvent;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.HdrHistogram.Histogram;

/**
 * Matches TX records of one agent with RX records of another by segment identity (addresses,
 * ports, seq, ack, payload length, IPv4 id), inside a bounded window, and keeps one HdrHistogram of
 * one-way latency per host pair and per flow. Timestamps handed in are already in the collector's
 * clock. Pending records are kept in arrival order and age out after the window (counted).
 * Thread-safe (one lock).
 */
public final class SegmentMatcher {
    /** A segment's identity as both hosts see it. Never matches across flows: the 4-tuple is part of it. */
    record Key(String src, int sport, String dst, int dport, long seq, long ack, int len, int ipId) {
        static Key of(NicSegmentEvent e) {
            return new Key(e.srcAddress(), e.srcPort(), e.dstAddress(), e.dstPort(), e.seq(), e.ack(), e.payloadBytes(), e.ipId());
        }

        String flow() {
            return endpoint(src, sport) + ">" + endpoint(dst, dport);
        }

        private static String endpoint(String a, int p) {
            return a.indexOf(':') >= 0 ? "[" + a + "]:" + p : a + ":" + p;
        }
    }

    private record Pending(String agent, long tsNs, long arrivalNs) {}

    private record Pair(String from, String to) {}

    private record FlowSeries(Pair pair, String flow) {}

    private final long windowNs;
    private final int maxPending;
    private final int maxFlows;
    private final LinkedHashMap<Key, Pending> tx = new LinkedHashMap<>();
    private final LinkedHashMap<Key, Pending> rx = new LinkedHashMap<>();
    private final Map<Pair, Histogram> pairs = new HashMap<>();
    private final Map<FlowSeries, Histogram> flows = new HashMap<>();
    private long batches, rejected, records, matched, txAged, rxAged, duplicates, noClock, sameAgent, outOfWindow,
            negative, flowsNotTracked;

    /**
     * @param windowNs how long a record waits for its partner, and the largest |rx − tx| accepted
     * @param maxPending bound of each side's pending records (the oldest is aged out beyond it)
     * @param maxFlows bound of per-flow series
     */
    public SegmentMatcher(long windowNs, int maxPending, int maxFlows) {
        this.windowNs = windowNs;
        this.maxPending = maxPending;
        this.maxFlows = maxFlows;
    }

    public synchronized void countBatch(boolean accepted) {
        if (accepted) {
            batches++;
        } else {
            rejected++;
        }
    }

    /** A record from an agent the collector has no clock offset for. */
    public synchronized void countNoClock(int n) {
        records += n;
        noClock += n;
    }

    /**
     * Offers one record.
     *
     * @param agent the agent that recorded it
     * @param e the record
     * @param localTsNs its timestamp converted into the collector's clock
     * @param arrivalNs the collector's monotonic clock at arrival (for ageing)
     */
    public synchronized void offer(String agent, NicSegmentEvent e, long localTsNs, long arrivalNs) {
        records++;
        age(arrivalNs);
        Key k = Key.of(e);
        boolean isTx = e.tx();
        LinkedHashMap<Key, Pending> own = isTx ? tx : rx;
        LinkedHashMap<Key, Pending> other = isTx ? rx : tx;
        Pending o = other.get(k);
        if (o != null) {
            if (o.agent().equals(agent)) {
                other.remove(k);
                sameAgent++;
                return;
            }
            other.remove(k);
            String txAgent = isTx ? agent : o.agent();
            String rxAgent = isTx ? o.agent() : agent;
            long latency = isTx ? o.tsNs() - localTsNs : localTsNs - o.tsNs();
            if (Math.abs(latency) > windowNs) {
                outOfWindow++;
                return;
            }
            if (latency < 0) {
                negative++;
                latency = 0;
            }
            matched++;
            Pair pair = new Pair(txAgent, rxAgent);
            pairs.computeIfAbsent(pair, p -> new Histogram(3)).recordValue(latency);
            FlowSeries fs = new FlowSeries(pair, k.flow());
            Histogram h = flows.get(fs);
            if (h == null && flows.size() < maxFlows) {
                h = new Histogram(2);
                flows.put(fs, h);
            }
            if (h != null) {
                h.recordValue(latency);
            } else {
                flowsNotTracked++;
            }
            return;
        }
        if (own.remove(k) != null) {
            duplicates += 2; // the same identity twice on one side: which one the partner belongs to is unknowable
            return;
        }
        own.put(k, new Pending(agent, localTsNs, arrivalNs));
        if (own.size() > maxPending) {
            Iterator<Pending> it = own.values().iterator();
            it.next();
            it.remove();
            if (isTx) {
                txAged++;
            } else {
                rxAged++;
            }
        }
    }

    /** Ages out pending records that arrived more than the window before {@code nowNs}. */
    public synchronized void age(long nowNs) {
        txAged += ageOut(tx, nowNs);
        rxAged += ageOut(rx, nowNs);
    }

    private long ageOut(LinkedHashMap<Key, Pending> m, long nowNs) {
        long n = 0;
        Iterator<Pending> it = m.values().iterator();
        while (it.hasNext()) {
            Pending p = it.next();
            if (nowNs - p.arrivalNs() <= windowNs) {
                break; // arrival order: the rest are younger
            }
            it.remove();
            n++;
        }
        return n;
    }

    public synchronized List<LatencySummary> summaries(String family, boolean withFlows) {
        List<LatencySummary> out = new ArrayList<>();
        pairs.entrySet().stream().sorted(Comparator.comparing((Map.Entry<Pair, Histogram> e) -> e.getKey().from())
                .thenComparing(e -> e.getKey().to())).forEach(e -> out.add(LatencySummary.of(family,
                        labels(e.getKey(), null), e.getValue())));
        if (withFlows) {
            flows.entrySet().stream().sorted(Comparator.comparing((Map.Entry<FlowSeries, Histogram> e) -> e.getKey().pair().from())
                    .thenComparing(e -> e.getKey().pair().to()).thenComparing(e -> e.getKey().flow()))
                    .forEach(e -> out.add(LatencySummary.of(family, labels(e.getKey().pair(), e.getKey().flow()), e.getValue())));
        }
        return out;
    }

    private static Map<String, String> labels(Pair p, String flow) {
        Map<String, String> l = new LinkedHashMap<>();
        l.put("from", p.from());
        l.put("to", p.to());
        if (flow != null) {
            l.put("flow", flow);
        }
        return l;
    }

    public synchronized CollectorStats stats() {
        return new CollectorStats(batches, rejected, records, matched, txAged, rxAged, duplicates, noClock, sameAgent,
                outOfWindow, negative, tx.size(), rx.size(), flowsNotTracked);
    }

    public synchronized void reset() {
        pairs.clear();
        flows.clear();
        batches = rejected = records = matched = txAged = rxAged = duplicates = noClock = sameAgent = outOfWindow = negative
                = flowsNotTracked = 0;
    }
}
