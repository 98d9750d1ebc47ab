package io.microbpf.probe.nic.internal;

import io.microbpf.api.bpf.BpfObject;
import io.microbpf.api.probe.ConfigReader;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Which devices the probe watches: those of one network namespace (by default the agent's own),
 * optionally only some of them (by name in the agent's namespace, or by ifindex).
 *
 * @param netnsInode the namespace's inode; 0 = every namespace
 * @param ifindexes the devices; empty = every device of the namespace
 * @param includeLoopback whether loopback devices count
 * @param includePureAcks whether segments without payload are recorded
 * @param excludePorts segments from or to these TCP ports are ignored (e.g. the collector's own)
 */
record NicFilter(long netnsInode, List<Integer> ifindexes, boolean includeLoopback, boolean includePureAcks,
        List<Integer> excludePorts) {
    static final int MAX_INTERFACES = 16;

    static NicFilter parse(ConfigReader r) {
        String ns = r.getString("netns", "self");
        long inode = 0;
        if (ns.equals("self")) {
            inode = inodeOf(Path.of("/proc/self/ns/net"), r);
        } else if (ns.equals("any")) {
            inode = 0;
        } else if (ns.startsWith("/")) {
            inode = inodeOf(Path.of(ns), r);
        } else {
            try {
                inode = Long.parseLong(ns);
            } catch (NumberFormatException e) {
                r.error("netns=" + ns + " is not self, any, a namespace file or an inode number");
            }
        }
        List<Integer> ifindexes = new ArrayList<>();
        List<String> names = r.getList("interfaces");
        if (names.size() > MAX_INTERFACES) {
            r.error("interfaces: at most " + MAX_INTERFACES + " (got " + names.size() + ")");
        }
        for (String n : names) {
            if (n.chars().allMatch(Character::isDigit)) {
                ifindexes.add(Integer.parseInt(n));
                continue;
            }
            Path idx = Path.of("/sys/class/net", n, "ifindex");
            try {
                ifindexes.add(Integer.parseInt(Files.readString(idx).strip()));
            } catch (IOException | NumberFormatException e) {
                r.error("interfaces: no device " + n + " in this agent's network namespace (" + idx + ")");
            }
        }
        List<Integer> ports = new ArrayList<>();
        List<String> portList = r.getList("exclude.ports");
        if (portList.size() > 8) {
            r.error("exclude.ports: at most 8 (got " + portList.size() + ")");
        }
        for (String p : portList) {
            try {
                int n = Integer.parseInt(p);
                if (n < 1 || n > 65535) {
                    throw new NumberFormatException();
                }
                ports.add(n);
            } catch (NumberFormatException e) {
                r.error("exclude.ports: " + p + " is not a port number");
            }
        }
        return new NicFilter(inode, List.copyOf(ifindexes), r.getBoolean("include.loopback", false),
                r.getBoolean("include.pure.acks", true), List.copyOf(ports.subList(0, Math.min(8, ports.size()))));
    }

    private static long inodeOf(Path p, ConfigReader r) {
        try {
            return ((Number) Files.getAttribute(p, "unix:ino")).longValue();
        } catch (IOException | RuntimeException e) {
            r.error("netns: cannot read the inode of " + p + ": " + e.getMessage());
            return 0;
        }
    }

    void apply(BpfObject obj) {
        obj.setConstantInt("filter_netns", (int) netnsInode);
        obj.setConstantInt("filter_ifindex_count", ifindexes.size());
        ByteBuffer b = ByteBuffer.allocate(4 * MAX_INTERFACES).order(ByteOrder.nativeOrder());
        ifindexes.forEach(b::putInt);
        obj.setConstant("filter_ifindexes", b.array());
        obj.setConstantInt("exclude_port_count", excludePorts.size());
        ByteBuffer p = ByteBuffer.allocate(2 * 8).order(ByteOrder.nativeOrder());
        excludePorts.forEach(v -> p.putShort((short) (int) v));
        obj.setConstant("exclude_ports", p.array());
        obj.setConstant("include_loopback", new byte[] {(byte) (includeLoopback ? 1 : 0)});
        obj.setConstant("include_pure_acks", new byte[] {(byte) (includePureAcks ? 1 : 0)});
    }
}
