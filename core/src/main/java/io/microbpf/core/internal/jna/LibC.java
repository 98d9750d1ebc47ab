package io.microbpf.core.internal.jna;

import com.sun.jna.Library;
import com.sun.jna.Native;
import com.sun.jna.Pointer;
import com.sun.jna.Structure;

/** The libc calls MicroBPF needs: mmap, epoll, eventfd, clocks, mount, setns. */
public interface LibC extends Library {
    LibC INSTANCE = Native.load("c", LibC.class);

    int PROT_READ = 1;
    int PROT_WRITE = 2;
    int MAP_SHARED = 1;
    int EPOLL_CLOEXEC = 0x80000;
    int EPOLL_CTL_ADD = 1;
    int EPOLLIN = 1;
    int EFD_CLOEXEC = 0x80000;
    int EFD_NONBLOCK = 0x800;
    int CLOCK_REALTIME = 0;
    int CLOCK_MONOTONIC = 1;
    int CLONE_NEWNET = 0x40000000;
    int EINTR = 4;
    int O_RDONLY = 0;
    int O_DIRECTORY = 0x10000;
    int O_CLOEXEC = 0x80000;

    Pointer mmap(Pointer addr, long length, int prot, int flags, int fd, long offset);
    int munmap(Pointer addr, long length);
    int open(String path, int flags);
    int close(int fd);
    int epoll_create1(int flags);
    /** event is a 12-byte packed struct epoll_event {u32 events; u64 data}. */
    int epoll_ctl(int epfd, int op, int fd, Pointer event);
    int epoll_wait(int epfd, Pointer events, int maxEvents, int timeoutMs);
    int eventfd(int initval, int flags);
    long write(int fd, Pointer buf, long count);
    long read(int fd, Pointer buf, long count);
    int vsnprintf(byte[] buf, long size, String format, Pointer vaList);
    int clock_gettime(int clockId, Timespec tp);
    int mount(String source, String target, String fsType, long flags, Pointer data);
    int setns(int fd, int nsType);
    int geteuid();
    int socket(int domain, int type, int protocol);
    int bind(int fd, Pointer addr, int len);
    int listen(int fd, int backlog);
    int accept(int fd, Pointer addr, Pointer len);
    int connect(int fd, Pointer addr, int len);
    long send(int fd, Pointer buf, long len, int flags);
    long recv(int fd, Pointer buf, long len, int flags);
    int getsockopt(int fd, int level, int name, Pointer value, com.sun.jna.ptr.IntByReference len);
    int setsockopt(int fd, int level, int name, Pointer value, int len);
    int getsockname(int fd, Pointer addr, com.sun.jna.ptr.IntByReference len);
    int shutdown(int fd, int how);
    String strerror(int errnum);

    @Structure.FieldOrder({"tv_sec", "tv_nsec"})
    class Timespec extends Structure {
        public long tv_sec;
        public long tv_nsec;

        public long toNanos() {
            return tv_sec * 1_000_000_000L + tv_nsec;
        }
    }
}
