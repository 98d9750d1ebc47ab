package io.microbpf.probe.nic;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * The sampling hash of nic.bpf.c in Java: a segment is kept when
 * {@code hash(saddr, daddr, sport, dport, ack, seq) % oneIn == 0}. Used by tests and by the collector
 * to tell which segments both hosts should have kept.
 */
public final class SegmentSampler {
    private SegmentSampler() {}

    public static long hash(String src, String dst, int sport, int dport, long ack, long seq) {
        long h = 0x9E3779B97F4A7C15L;
        byte[] s = raw(src);
        byte[] d = raw(dst);
        ByteBuffer sb = ByteBuffer.wrap(s).order(ByteOrder.LITTLE_ENDIAN);
        ByteBuffer db = ByteBuffer.wrap(d).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < s.length / 4; i++) {
            h = mix(h, sb.getInt(i * 4));
        }
        for (int i = 0; i < d.length / 4; i++) {
            h = mix(h, db.getInt(i * 4));
        }
        h = mix(h, (sport << 16) | (dport & 0xffff));
        h = mix(h, (int) ack);
        return fmix64(h ^ (seq & 0xffffffffL));
    }

    /** Whether a segment is sampled at 1 in {@code oneIn}. */
    public static boolean sampled(long hash, long oneIn) {
        return oneIn <= 1 || Long.remainderUnsigned(hash, oneIn) == 0;
    }

    private static long mix(long h, int w) {
        h ^= w & 0xffffffffL;
        h *= 0xff51afd7ed558ccdL;
        h ^= h >>> 33;
        return h;
    }

    private static long fmix64(long k) {
        k ^= k >>> 33;
        k *= 0xff51afd7ed558ccdL;
        k ^= k >>> 33;
        k *= 0xc4ceb9fe1a85ec53L;
        k ^= k >>> 33;
        return k;
    }

    private static byte[] raw(String address) {
        try {
            return InetAddress.getByName(address).getAddress();
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException("not an IP address: " + address, e);
        }
    }
}
