package io.microbpf.itest;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The BPF kernel objects held by this process (the Karaf JVM), read from /proc/self: file
 * descriptors whose link reads {@code anon_inode:bpf-prog}, {@code anon_inode:bpf-map} or
 * {@code anon_inode:bpf_link}, and memory mappings of BPF maps (ring buffers) in /proc/self/maps.
 *
 * <p>Mappings are matched on {@code anon_inode:bpf}, not on any "bpf": libbpf.so stays mapped once
 * JNA has loaded it, and a checkout path such as /home/me/microbpf would match every jar.
 *
 * @param progs BPF program fds
 * @param maps BPF map fds
 * @param links BPF link fds
 * @param mappings mmapped regions of BPF maps
 * @param details one line per object found, for failure messages
 */
record BpfObjects(int progs, int maps, int links, int mappings, List<String> details) {

    static BpfObjects count() {
        int progs = 0;
        int maps = 0;
        int links = 0;
        int mappings = 0;
        List<String> details = new ArrayList<>();
        try (DirectoryStream<Path> fds = Files.newDirectoryStream(Path.of("/proc/self/fd"))) {
            for (Path fd : fds) {
                String target;
                try {
                    target = Files.readSymbolicLink(fd).toString();
                } catch (IOException e) {
                    continue; // closed while we listed, e.g. the directory stream's own fd
                }
                switch (target) {
                    case "anon_inode:bpf-prog" -> progs++;
                    case "anon_inode:bpf-map" -> maps++;
                    case "anon_inode:bpf_link" -> links++;
                    default -> {
                        continue;
                    }
                }
                details.add("fd " + fd.getFileName() + " -> " + target);
            }
            for (String line : Files.readAllLines(Path.of("/proc/self/maps"))) {
                if (line.contains("anon_inode:bpf")) {
                    mappings++;
                    details.add("map " + line);
                }
            }
        } catch (IOException e) {
            throw new IllegalStateException("cannot read /proc/self: " + e, e);
        }
        return new BpfObjects(progs, maps, links, mappings, List.copyOf(details));
    }

    int total() {
        return progs + maps + links + mappings;
    }

    /** Same numbers of each kind (the details may differ in fd numbers). */
    boolean sameCounts(BpfObjects other) {
        return progs == other.progs && maps == other.maps && links == other.links && mappings == other.mappings;
    }

    @Override
    public String toString() {
        return "progs=" + progs + " maps=" + maps + " links=" + links + " mappings=" + mappings;
    }
}
