package io.microbpf.itest;

import io.microbpf.api.Event;
import io.microbpf.api.EventSink;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;

/** Test sink: keeps every event of one type it is given. Registered as a whiteboard service. */
final class RecordingSink implements EventSink {
    private final String eventType;
    private final ConcurrentLinkedQueue<Event> events = new ConcurrentLinkedQueue<>();

    RecordingSink(String eventType) {
        this.eventType = eventType;
    }

    @Override
    public String name() {
        return "itest-recorder";
    }

    @Override
    public boolean accepts(String type) {
        return eventType.equals(type);
    }

    @Override
    public void deliver(List<Event> batch) {
        for (Event event : batch) {
            if (eventType.equals(event.type())) {
                events.add(event);
            }
        }
    }

    List<Event> events() {
        return new ArrayList<>(events);
    }
}
