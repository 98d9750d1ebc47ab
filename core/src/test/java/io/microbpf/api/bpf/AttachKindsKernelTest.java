package io.microbpf.api.bpf;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.microbpf.test.KernelTestSupport;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** raw_tracepoint, sockops and cgroup_skb programs attach through BpfObject and really fire; maps work. */
class AttachKindsKernelTest {
    private byte[] elf;

    @BeforeEach
    void setUp() {
        KernelTestSupport.requireKernel();
        elf = KernelTestSupport.resource("/bpf/selftest.bpf.o");
    }

    @Test
    void rawTracepointSockopsAndCgroupSkbAttachAndSeeTraffic() throws Exception {
        try (BpfObject obj = BpfObject.open("selftest", elf)) {
            obj.loadOnly(Set.of("state_raw_tp", "sockops_count", "egress_count"));
            obj.load();
            obj.attach("state_raw_tp", AttachKind.RAW_TRACEPOINT);
            obj.attach("sockops_count", AttachKind.SOCKOPS);
            obj.attach("egress_count", AttachKind.CGROUP_SKB_EGRESS);
            try (ServerSocket server = new ServerSocket(0, 10, InetAddress.getLoopbackAddress());
                    Socket client = new Socket(InetAddress.getLoopbackAddress(), server.getLocalPort());
                    Socket accepted = server.accept()) {
                client.getOutputStream().write(new byte[1000]);
                accepted.getInputStream().readNBytes(1000);
            }
            Btf.Var v = obj.btf().datasecVar(".bss", "other_hooks");
            byte[] bss = obj.map(".bss").lookup(new byte[4]);
            String[] names = {"raw_tracepoint", "sockops", "cgroup_skb/egress"};
            for (int i = 0; i < 3; i++) {
                long n = Bytes.u64At(bss, v.offset() + 8 * i);
                assertTrue(n > 0, names[i] + " never fired");
            }
        }
    }

    @Test
    void mapLookupUpdateDeleteAndIterate() {
        try (BpfObject obj = BpfObject.open("selftest", elf)) {
            obj.loadOnly(Set.of("xdp_emit"));
            obj.load();
            BpfMap kv = obj.map("kv");
            assertEquals(4, kv.keySize());
            assertEquals(8, kv.valueSize());
            assertEquals(16, kv.maxEntries());
            for (int k = 1; k <= 5; k++) {
                kv.update(Bytes.u32(k), Bytes.u64(k * 100L));
            }
            assertArrayEquals(Bytes.u64(300), kv.lookup(Bytes.u32(3)));
            assertNull(kv.lookup(Bytes.u32(42)));
            Set<Integer> keys = new HashSet<>();
            for (byte[] key : kv.keys()) {
                keys.add(java.nio.ByteBuffer.wrap(key).order(java.nio.ByteOrder.nativeOrder()).getInt());
            }
            assertEquals(Set.of(1, 2, 3, 4, 5), keys);
            assertTrue(kv.delete(Bytes.u32(3)));
            assertFalse(kv.delete(Bytes.u32(3)));
            assertEquals(4, kv.keys().size());
            assertEquals(List.of(), List.copyOf(obj.map("events_lost").perCpu() ? List.of() : List.of("not per-cpu")));
        }
    }

    @Test
    void aMapIteratorRunsItsProgramOnceOverEveryElementPerRun() {
        try (BpfObject obj = BpfObject.open("selftest", elf)) {
            obj.loadOnly(Set.of("kv_sum"));
            obj.load();
            BpfMap kv = obj.map("kv");
            for (int k = 1; k <= 7; k++) {
                kv.update(Bytes.u32(k), Bytes.u64(k * 10L));
            }
            BpfMapIterator it = obj.attachMapIterator("kv_sum", "kv");
            Btf.Var sum = obj.btf().datasecVar(".bss", "kv_iter_sum");
            Btf.Var count = obj.btf().datasecVar(".bss", "kv_iter_count");
            it.run();
            byte[] bss = obj.map(".bss").lookup(new byte[4]);
            assertEquals(280, Bytes.u64At(bss, sum.offset()));
            assertEquals(7, Bytes.u64At(bss, count.offset()));
            kv.delete(Bytes.u32(7));
            it.run();
            bss = obj.map(".bss").lookup(new byte[4]);
            assertEquals(280 + 210, Bytes.u64At(bss, sum.offset()), "the second run sees the map as it is now");
            assertEquals(7 + 6, Bytes.u64At(bss, count.offset()));
            it.close();
            assertThrows(IllegalStateException.class, it::run);
        }
    }

    @Test
    void forEachReadsEveryEntryInBatchesOfAnySize() {
        try (BpfObject obj = BpfObject.open("selftest", elf)) {
            obj.loadOnly(Set.of("xdp_emit"));
            obj.load();
            BpfMap kv = obj.map("kv");
            java.util.Map<Integer, Long> expected = new java.util.HashMap<>();
            for (int k = 1; k <= 16; k++) { // the map full: 16 of 16
                kv.update(Bytes.u32(k), Bytes.u64(k * 1000L + 7));
                expected.put(k, k * 1000L + 7);
            }
            for (int batch : new int[] {1, 3, 16, 1024}) {
                java.util.Map<Integer, Long> seen = new java.util.HashMap<>();
                kv.forEach(batch, (key, value) -> {
                    Long previous = seen.put(java.nio.ByteBuffer.wrap(key).order(java.nio.ByteOrder.nativeOrder()).getInt(),
                            Bytes.u64At(value, 0));
                    assertNull(previous, "an entry delivered twice with batches of " + batch);
                });
                assertEquals(expected, seen, "batches of " + batch);
            }
            // an array map (.bss, one entry) and a per-CPU array (the key-by-key fallback) work too
            List<byte[]> bss = new java.util.ArrayList<>();
            obj.map(".bss").forEach(8, (key, value) -> bss.add(value));
            assertEquals(1, bss.size());
            assertArrayEquals(obj.map(".bss").lookup(new byte[4]), bss.get(0));
            int[] lost = {0};
            obj.map("events_lost").forEach(8, (key, value) -> lost[0]++);
            assertEquals(obj.map("events_lost").maxEntries(), lost[0]);
        }
    }
}
