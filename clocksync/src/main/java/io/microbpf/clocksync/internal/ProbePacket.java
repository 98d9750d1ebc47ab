package io.microbpf.clocksync.internal;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * The clock-sync datagram (big-endian): magic "MBCS", version 1, kind (1 request, 2 reply), the
 * exchange id, t1, t2, t3 (ns, each in its writer's agent clock; 0 where not yet set) and the
 * sender's agent id (u16 length + UTF-8, at most 255 bytes).
 */
record ProbePacket(int kind, long exchangeId, long t1, long t2, long t3, String senderId) {
    static final int MAGIC = 0x4d424353; // "MBCS"
    static final int VERSION = 1;
    static final int REQUEST = 1;
    static final int REPLY = 2;
    static final int MAX_BYTES = 2 + 2 + 4 + 8 * 4 + 2 + 255;
    /** Where t1 and t3 sit in the datagram (stamped at send time). */
    static final int T1_OFFSET = 16;
    static final int T3_OFFSET = 32;

    void writeTo(ByteBuffer b) {
        byte[] id = senderId.getBytes(StandardCharsets.UTF_8);
        b.putInt(MAGIC).put((byte) VERSION).put((byte) kind).putShort((short) 0).putLong(exchangeId)
                .putLong(t1).putLong(t2).putLong(t3).putShort((short) id.length).put(id);
    }

    /** Parses a datagram; null if it is not a valid clock-sync packet. */
    static ProbePacket parse(ByteBuffer b) {
        try {
            if (b.getInt() != MAGIC || b.get() != VERSION) {
                return null;
            }
            int kind = b.get();
            b.getShort();
            long id = b.getLong();
            long t1 = b.getLong();
            long t2 = b.getLong();
            long t3 = b.getLong();
            int len = b.getShort() & 0xffff;
            if (len > 255 || (kind != REQUEST && kind != REPLY)) {
                return null;
            }
            byte[] raw = new byte[len];
            b.get(raw);
            return new ProbePacket(kind, id, t1, t2, t3, new String(raw, StandardCharsets.UTF_8));
        } catch (RuntimeException e) {
            return null;
        }
    }
}
