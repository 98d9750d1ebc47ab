package io.microbpf.api.bpf;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/** Native-order encodings of small integers for map keys, values and constants. */
public final class Bytes {
    private Bytes() {}

    public static byte[] u32(int v) {
        return ByteBuffer.allocate(4).order(ByteOrder.nativeOrder()).putInt(v).array();
    }

    public static byte[] u64(long v) {
        return ByteBuffer.allocate(8).order(ByteOrder.nativeOrder()).putLong(v).array();
    }

    public static long u64At(byte[] b, int offset) {
        return ByteBuffer.wrap(b).order(ByteOrder.nativeOrder()).getLong(offset);
    }
}
