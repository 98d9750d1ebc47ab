package io.microbpf.test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

/**
 * What this JVM holds in the kernel right now: BPF program, map and link fds, BPF map mmaps, and
 * threads whose name starts with a prefix. Compared before and after a probe runs.
 */
public record KernelResources(int progFds, int mapFds, int linkFds, int bpfMappings, long threads) {
    public static KernelResources snapshot(String threadPrefix) {
        int prog = 0;
        int map = 0;
        int link = 0;
        try (Stream<Path> fds = Files.list(Path.of("/proc/self/fd"))) {
            for (Path fd : (Iterable<Path>) fds::iterator) {
                String target;
                try {
                    target = Files.readSymbolicLink(fd).toString();
                } catch (IOException e) {
                    continue; // closed while listing
                }
                if (target.equals("anon_inode:bpf-prog")) {
                    prog++;
                } else if (target.equals("anon_inode:bpf-map")) {
                    map++;
                } else if (target.equals("anon_inode:bpf_link")) {
                    link++;
                }
            }
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        int mappings;
        try {
            mappings = (int) Files.readAllLines(Path.of("/proc/self/maps")).stream().filter(l -> l.contains("anon_inode:bpf")).count();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        long threads = Thread.getAllStackTraces().keySet().stream().filter(t -> t.getName().startsWith(threadPrefix)).count();
        return new KernelResources(prog, map, link, mappings, threads);
    }
}
