package io.microbpf.collector.internal;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectReader;
import io.microbpf.clocksync.ClockSync;
import io.microbpf.probe.nic.NicSegmentEvent;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;
import java.util.function.LongSupplier;

/**
 * Decodes one push of the HTTP push sink's wire format,
 * {@code {"agent": "<id>", "sentWallNs": <long>, "events": [<event>, ...]}}, keeps the events of type
 * {@code nic.segment} (others are ignored: an agent's sink may carry every event type), converts each
 * timestamp from the agent's clock into ours with clock sync, and offers them to the matcher.
 * A malformed body is refused whole (nothing of it is used).
 */
public final class PushIngest {
    /** Outcome of one push. */
    public record Result(boolean accepted, int nicRecords, String error) {}

    private final ObjectMapper mapper = new ObjectMapper().configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);
    private final ObjectReader eventReader = mapper.readerFor(WireEvent.class);

    /**
     * One element of "events" as it arrives: a {@link NicSegmentEvent}'s fields plus "type", so an
     * event is read once, straight from the parser, and dropped unless it is a nic.segment.
     */
    @com.fasterxml.jackson.annotation.JsonIgnoreProperties(ignoreUnknown = true)
    record WireEvent(String type, String direction, int family, String srcAddress, int srcPort, String dstAddress, int dstPort,
            long seq, long ack, int payloadBytes, int ipId, int tcpFlags, int ifindex, String interfaceName, long netnsInode,
            int gsoSegments, int segmentIndex, String hook, long monotonicNs, long wallClockNs) {
        NicSegmentEvent event() {
            if (!NicSegmentEvent.TX.equals(direction) && !NicSegmentEvent.RX.equals(direction)) {
                throw new IllegalArgumentException("a nic.segment event's direction must be TX or RX, not " + direction);
            }
            if (srcAddress == null || dstAddress == null) {
                throw new IllegalArgumentException("a nic.segment event without addresses");
            }
            return new NicSegmentEvent(direction, family, srcAddress, srcPort, dstAddress, dstPort, seq, ack, payloadBytes, ipId,
                    tcpFlags, ifindex, interfaceName, netnsInode, gsoSegments, segmentIndex, hook, monotonicNs, wallClockNs);
        }
    }
    private final SegmentMatcher matcher;
    private final ClockSync clock;
    private final LongSupplier monotonicNs;

    public PushIngest(SegmentMatcher matcher, ClockSync clock, LongSupplier monotonicNs) {
        this.matcher = matcher;
        this.clock = clock;
        this.monotonicNs = monotonicNs;
    }

    public Result ingest(byte[] body) {
        String agent = null;
        List<NicSegmentEvent> events = new ArrayList<>();
        try (JsonParser p = mapper.getFactory().createParser(body)) {
            if (p.nextToken() != JsonToken.START_OBJECT) {
                return refuse("the body is not a JSON object");
            }
            boolean sawEvents = false;
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String field = p.currentName();
                JsonToken t = p.nextToken();
                switch (field) {
                    case "agent" -> {
                        if (t != JsonToken.VALUE_STRING || p.getText().isBlank()) {
                            return refuse("\"agent\" must be a non-empty string");
                        }
                        agent = p.getText();
                    }
                    case "events" -> {
                        if (t != JsonToken.START_ARRAY) {
                            return refuse("\"events\" must be an array");
                        }
                        sawEvents = true;
                        while (p.nextToken() == JsonToken.START_OBJECT) {
                            WireEvent w = eventReader.readValue(p);
                            if (NicSegmentEvent.TYPE.equals(w.type())) {
                                events.add(w.event());
                            }
                        }
                        if (p.currentToken() != JsonToken.END_ARRAY) {
                            return refuse("\"events\" must hold objects");
                        }
                    }
                    default -> p.skipChildren();
                }
            }
            if (agent == null || !sawEvents) {
                return refuse("a push needs \"agent\" and \"events\"");
            }
        } catch (IOException | RuntimeException e) {
            return refuse("malformed push: " + e.getMessage().lines().findFirst().orElse(""));
        }
        matcher.countBatch(true);
        long now = monotonicNs.getAsLong();
        int noClock = 0;
        for (NicSegmentEvent e : events) {
            OptionalLong local = clock.toLocalNs(agent, e.monotonicNs());
            if (local.isEmpty()) {
                noClock++;
            } else {
                matcher.offer(agent, e, local.getAsLong(), now);
            }
        }
        if (noClock > 0) {
            matcher.countNoClock(noClock);
        }
        return new Result(true, events.size(), null);
    }

    /** Counts a push the endpoint refused before decoding it (wrong method, too large). */
    public void refused() {
        matcher.countBatch(false);
    }

    private Result refuse(String why) {
        matcher.countBatch(false);
        return new Result(false, 0, why);
    }
}
