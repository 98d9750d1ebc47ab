package io.microbpf.sink.file;

import io.microbpf.api.Event;

/** A test event with a sequence number and some text (quotes, newlines and non-ASCII included). */
public record Sample(String type, long seq, String text, long monotonicNs, long wallClockNs) implements Event {
    public static Sample of(long seq) {
        return new Sample("test.sample", seq, "line \"" + seq + "\"\n\tµs ünïcode " + "x".repeat((int) (seq % 50)), seq * 10, 1_700_000_000_000_000_000L + seq);
    }

    /** Lines of about 120 to 2 100 bytes (the text length varies with seq), so pads of every size occur. */
    public static Sample wide(long seq) {
        return new Sample("test.sample", seq, "wide \"" + seq + "\" " + "y".repeat((int) (seq * 7919 % 2000)), seq * 10,
                1_700_000_000_000_000_000L + seq);
    }

    @Override
    public String summary() {
        return "#" + seq;
    }
}
