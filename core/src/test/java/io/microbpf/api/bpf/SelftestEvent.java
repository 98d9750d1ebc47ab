package io.microbpf.api.bpf;

import java.nio.ByteBuffer;
import java.util.Map;

/** Java mirror of {@code struct selftest_event} (bpf/src/main/bpf/selftest.h). */
record SelftestEvent(long seq, long tsNs, int tag, int len) {
    static final int SIZE = 64;
    static final int OFF_SEQ = 0;
    static final int OFF_TS_NS = 8;
    static final int OFF_TAG = 16;
    static final int OFF_LEN = 20;
    static final int OFF_PAD = 24;

    static Map<String, Integer> layout() {
        return Map.of("seq", OFF_SEQ, "ts_ns", OFF_TS_NS, "tag", OFF_TAG, "len", OFF_LEN, "pad", OFF_PAD);
    }

    static SelftestEvent decode(ByteBuffer b, int off) {
        return new SelftestEvent(b.getLong(off + OFF_SEQ), b.getLong(off + OFF_TS_NS), b.getInt(off + OFF_TAG), b.getInt(off + OFF_LEN));
    }
}
