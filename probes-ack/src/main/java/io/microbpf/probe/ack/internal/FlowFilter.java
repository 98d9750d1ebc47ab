package io.microbpf.probe.ack.internal;

import io.microbpf.api.bpf.BpfObject;
import io.microbpf.api.probe.ConfigReader;
import java.io.IOException;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * Which connections the ack probe observes: ports, addresses, network namespace. Applied in the
 * kernel (const volatile globals set before load), so filtered traffic costs one check per
 * connection and nothing per ACK.
 *
 * @param ports local or remote port must be one of these (empty: any); at most 8
 * @param addresses local or remote address must be one of these, as 16-byte IPv6 (IPv4 mapped); at most 8
 * @param netnsInode the network namespace inode (0: any)
 */
record FlowFilter(List<Integer> ports, List<String> addresses, long netnsInode) {
    static final int MAX_ENTRIES = 8;
    private static final Pattern IPV4 = Pattern.compile("\\d{1,3}(\\.\\d{1,3}){3}");
    private static final Pattern IPV6 = Pattern.compile("[0-9a-fA-F:.]*:[0-9a-fA-F:.]*");

    static FlowFilter parse(ConfigReader r) {
        List<Integer> ports = new ArrayList<>();
        for (String p : r.getList("filter.ports")) {
            try {
                int n = Integer.parseInt(p);
                if (n < 1 || n > 65535) {
                    throw new NumberFormatException();
                }
                ports.add(n);
            } catch (NumberFormatException e) {
                r.error("filter.ports: " + p + " is not a port (1..65535)");
            }
        }
        List<String> addresses = new ArrayList<>();
        for (String a : r.getList("filter.addresses")) {
            try {
                if (!IPV4.matcher(a).matches() && !IPV6.matcher(a).matches()) {
                    throw new IOException();
                }
                addresses.add(InetAddress.getByName(a).getHostAddress()); // a literal: no DNS lookup
            } catch (IOException e) {
                r.error("filter.addresses: " + a + " is not an IPv4 or IPv6 address");
            }
        }
        if (ports.size() > MAX_ENTRIES) {
            r.error("filter.ports: at most " + MAX_ENTRIES + " ports, got " + ports.size());
        }
        if (addresses.size() > MAX_ENTRIES) {
            r.error("filter.addresses: at most " + MAX_ENTRIES + " addresses, got " + addresses.size());
        }
        long netns = 0;
        String ns = r.getString("filter.netns", "");
        if (!ns.isEmpty()) {
            if (ns.chars().allMatch(Character::isDigit)) {
                netns = Long.parseLong(ns);
            } else {
                try {
                    netns = ((Number) Files.getAttribute(Path.of(ns), "unix:ino")).longValue();
                } catch (IOException | RuntimeException e) {
                    r.error("filter.netns: " + ns + " is neither a namespace inode nor a readable namespace file"
                            + " (e.g. /var/run/netns/NAME or /proc/PID/ns/net)");
                }
            }
        }
        return new FlowFilter(List.copyOf(ports), List.copyOf(addresses), netns);
    }

    /** Writes the filter into the object's constants (before load). */
    void apply(BpfObject obj) {
        int n = Math.min(ports.size(), MAX_ENTRIES);
        byte[] portBytes = new byte[2 * MAX_ENTRIES];
        for (int i = 0; i < n; i++) {
            int p = ports.get(i);
            portBytes[2 * i] = (byte) p; // native (little-endian) u16
            portBytes[2 * i + 1] = (byte) (p >>> 8);
        }
        obj.setConstant("filter_ports", portBytes);
        obj.setConstantInt("filter_port_count", n);
        int m = Math.min(addresses.size(), MAX_ENTRIES);
        byte[] addrBytes = new byte[16 * MAX_ENTRIES];
        for (int i = 0; i < m; i++) {
            System.arraycopy(ipv6Form(addresses.get(i)), 0, addrBytes, 16 * i, 16);
        }
        obj.setConstant("filter_addrs", addrBytes);
        obj.setConstantInt("filter_addr_count", m);
        obj.setConstantInt("filter_netns", (int) netnsInode);
    }

    /** 16 bytes: IPv6 as is, IPv4 as ::ffff:a.b.c.d (the form the kernel side compares). */
    static byte[] ipv6Form(String literal) {
        try {
            InetAddress a = InetAddress.getByName(literal);
            if (a instanceof Inet4Address) {
                byte[] out = new byte[16];
                out[10] = (byte) 0xff;
                out[11] = (byte) 0xff;
                System.arraycopy(a.getAddress(), 0, out, 12, 4);
                return out;
            }
            return a.getAddress();
        } catch (IOException e) {
            throw new IllegalArgumentException(literal, e);
        }
    }

}
