package io.microbpf.core.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.microbpf.api.Event;
import io.microbpf.api.EventSink;
import io.microbpf.api.SinkStats;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Dispatcher isolation: a sink that blocks, throws or leaves loses only its own events. */
class SinkFanoutTest {
    record TestEvent(String type, long monotonicNs) implements Event {
        @Override
        public long wallClockNs() {
            return monotonicNs;
        }

        @Override
        public String summary() {
            return type + "#" + monotonicNs;
        }
    }

    /** Collects what it receives; counts down once it has {@code expected} events. */
    static final class CollectingSink implements EventSink {
        final String name;
        final List<Event> received = java.util.Collections.synchronizedList(new ArrayList<>());
        final CountDownLatch done;
        final String onlyType;

        CollectingSink(String name, int expected, String onlyType) {
            this.name = name;
            this.done = new CountDownLatch(expected);
            this.onlyType = onlyType;
        }

        @Override
        public String name() {
            return name;
        }

        @Override
        public boolean accepts(String type) {
            return onlyType == null || onlyType.equals(type);
        }

        @Override
        public void deliver(List<Event> batch) {
            received.addAll(batch);
            batch.forEach(e -> done.countDown());
        }
    }

    /** Blocks in deliver until released. */
    static final class BlockedSink implements EventSink {
        final CountDownLatch release = new CountDownLatch(1);
        final CountDownLatch entered = new CountDownLatch(1);

        @Override
        public String name() {
            return "blocked";
        }

        @Override
        public void deliver(List<Event> batch) throws InterruptedException {
            entered.countDown();
            release.await();
        }
    }

    private final SinkFanout fanout = new SinkFanout(100);

    @AfterEach
    void tearDown() {
        fanout.close();
    }

    private static List<Event> batch(String type, int from, int n) {
        List<Event> b = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            b.add(new TestEvent(type, from + i));
        }
        return b;
    }

    /** Delivery counters move just after deliver() returns: wait (bounded) for them to settle. */
    private SinkStats settled(String name, long delivered) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (stats(name).delivered() < delivered && System.nanoTime() < deadline) {
            Thread.sleep(5);
        }
        return stats(name);
    }

    private SinkStats stats(String name) {
        return fanout.sinkStats().stream().filter(s -> s.name().equals(name)).findFirst().orElseThrow();
    }

    @Test
    void aBlockedSinkNeitherDelaysThePublisherNorAnotherSink() throws Exception {
        BlockedSink blocked = new BlockedSink();
        CollectingSink fast = new CollectingSink("fast", 1000, null);
        fanout.addSink(blocked);
        fanout.addSink(fast);
        fanout.publish(batch("t", 0, 10));
        assertTrue(blocked.entered.await(5, TimeUnit.SECONDS));
        for (int i = 1; i < 100; i++) {
            long t0 = System.nanoTime();
            fanout.publish(batch("t", i * 10, 10));
            assertTrue(System.nanoTime() - t0 < TimeUnit.SECONDS.toNanos(1), "publish must not wait for the blocked sink");
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
            while (fast.received.size() < (i + 1) * 10 && System.nanoTime() < deadline) {
                Thread.sleep(1);
            }
            assertEquals((i + 1) * 10, fast.received.size(), "fast sink keeps up while the other is stuck");
        }
        SinkStats b = stats("blocked");
        // 10 events stuck inside deliver, 100 queued (the bound), the other 890 dropped and counted
        assertEquals(100, b.queuedEvents(), b.toString());
        assertEquals(890, b.dropped(), b.toString());
        assertEquals(0, b.delivered());
        assertEquals(1000, settled("fast", 1000).delivered());
        assertEquals(0, stats("fast").dropped());
        blocked.release.countDown();
    }

    @Test
    void aThrowingSinkCountsItsFailuresAndTheOthersGetEverything() throws Exception {
        EventSink throwing = new EventSink() {
            @Override
            public String name() {
                return "throwing";
            }

            @Override
            public void deliver(List<Event> batch) {
                throw new IllegalStateException("disk on fire");
            }
        };
        CollectingSink fast = new CollectingSink("fast", 50, null);
        fanout.addSink(throwing);
        fanout.addSink(fast);
        for (int i = 0; i < 5; i++) {
            fanout.publish(batch("t", i * 10, 10));
        }
        assertTrue(fast.done.await(5, TimeUnit.SECONDS));
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (stats("throwing").failed() < 50 && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        assertEquals(50, stats("throwing").failed());
        assertEquals("java.lang.IllegalStateException: disk on fire", stats("throwing").lastError());
        assertEquals(50, settled("fast", 50).delivered());
    }

    /** A sink that takes everything and reports {@code counters} (a {@code null} supplier: the default). */
    static EventSink counting(String name, java.util.function.Supplier<Map<String, Long>> counters) {
        return new EventSink() {
            @Override
            public String name() {
                return name;
            }

            @Override
            public void deliver(List<Event> batch) {}

            @Override
            public Map<String, Long> counters() {
                return counters == null ? EventSink.super.counters() : counters.get();
            }
        };
    }

    @Test
    void sinkStatsCarryTheSinksOwnCountersAndAThrowingCountersIsTheLastError() {
        fanout.addSink(counting("plain", null));
        fanout.addSink(counting("counting", () -> {
            Map<String, Long> c = new LinkedHashMap<>();
            c.put("longLines", 3L);
            c.put("paddingBytes", 4096L);
            return c;
        }));
        fanout.addSink(counting("broken", () -> {
            throw new IllegalStateException("no counters today");
        }));
        assertEquals(Map.of(), stats("plain").counters());
        assertEquals(List.of("longLines", "paddingBytes"), List.copyOf(stats("counting").counters().keySet()), "the sink's order");
        assertEquals(Map.of("longLines", 3L, "paddingBytes", 4096L), stats("counting").counters());
        SinkStats broken = stats("broken");
        assertEquals(Map.of(), broken.counters());
        assertEquals("counters() threw java.lang.IllegalStateException: no counters today", broken.lastError());
    }

    @Test
    void sinksReceiveOnlyTheTypesTheyAccept() throws Exception {
        CollectingSink conns = new CollectingSink("conns", 30, "tcp.connection");
        fanout.addSink(conns);
        List<Event> mixed = new ArrayList<>(batch("tcp.connection", 0, 30));
        mixed.addAll(batch("tcp.flow", 100, 20));
        fanout.publish(mixed);
        assertTrue(conns.done.await(5, TimeUnit.SECONDS));
        Thread.sleep(50);
        assertEquals(30, conns.received.size());
        assertTrue(conns.received.stream().allMatch(e -> e.type().equals("tcp.connection")));
        assertEquals(50, fanout.publishedEvents());
    }

    @Test
    void interleavedTypesAreFilteredEventByEventInOrder() throws Exception {
        List<Event> mixed = new ArrayList<>();
        List<Long> expected = new ArrayList<>();
        for (int i = 0; i < 6; i++) { // conn, flow, conn, flow, flow, conn, flow, ...: runs of one and two
            mixed.addAll(batch("tcp.connection", 10 * i, 1));
            int n = i % 2 == 0 ? 1 : 2;
            mixed.addAll(batch("tcp.flow", 100 + 2 * i, n));
            for (int j = 0; j < n; j++) {
                expected.add((long) (100 + 2 * i + j));
            }
        }
        CollectingSink flows = new CollectingSink("flows", expected.size(), "tcp.flow");
        fanout.addSink(flows);
        fanout.publish(mixed);
        assertTrue(flows.done.await(5, TimeUnit.SECONDS));
        Thread.sleep(50);
        assertEquals(expected, flows.received.stream().map(Event::monotonicNs).toList(), "only tcp.flow, in order");
    }

    @Test
    void aDepartingSinkLosesOnlyItsQueuedEventsAndTheOthersGoOn() throws Exception {
        BlockedSink blocked = new BlockedSink();
        CollectingSink fast = new CollectingSink("fast", 40, null);
        fanout.addSink(blocked);
        fanout.addSink(fast);
        fanout.publish(batch("t", 0, 10));
        assertTrue(blocked.entered.await(5, TimeUnit.SECONDS));
        fanout.publish(batch("t", 10, 10));
        fanout.removeSink(blocked);
        assertEquals(List.of("fast"), fanout.sinkStats().stream().map(SinkStats::name).toList());
        fanout.publish(batch("t", 20, 20));
        assertTrue(fast.done.await(5, TimeUnit.SECONDS));
        assertEquals(40, settled("fast", 40).delivered());
    }

    @Test
    void aSinkReportingAProblemIsListedFailedWithItsReasonAndOthersStayOk() throws Exception {
        String[] problem = {null};
        EventSink flaky = new EventSink() {
            public String name() { return "flaky"; }
            public void deliver(List<Event> batch) { }
            public String problem() { return problem[0]; }
        };
        CollectingSink fine = new CollectingSink("fine", 10, null);
        fanout.addSink(flaky);
        fanout.addSink(fine);
        assertEquals("ok", stats("flaky").state());
        problem[0] = "disk full writing /data/events.jsonl";
        assertEquals("failed", stats("flaky").state());
        assertEquals("disk full writing /data/events.jsonl", stats("flaky").problem());
        fanout.publish(batch("t", 0, 10));
        assertTrue(fine.done.await(5, TimeUnit.SECONDS));
        assertEquals("ok", stats("fine").state());
        assertEquals(null, stats("fine").problem());
    }
}
