package io.microbpf.api.bpf;

import com.sun.jna.Memory;
import com.sun.jna.Native;
import com.sun.jna.Pointer;
import com.sun.jna.ptr.LongByReference;
import io.microbpf.core.internal.jna.LibBpf;
import io.microbpf.core.internal.jna.LibC;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * A BPF ELF object opened by libbpf: first configured (knobs, map sizes, which programs load), then
 * loaded into the kernel, then its programs attached.
 *
 * <p>Owner: the probe (or test) that opened it. {@link #close()} destroys every link and map iterator attached
 * through it, then the object (programs and maps); forgetting it leaks kernel objects: a bug.
 * Not thread-safe: one owner drives it.
 */
public final class BpfObject implements AutoCloseable {
    /** Where cgroup-attached programs go (cgroup v2 root on our machines). */
    public static final String DEFAULT_CGROUP = "/sys/fs/cgroup/unified";

    private final String name;
    private final Memory elf; // libbpf reads the ELF in place: keep it alive until close
    private final List<BpfLink> links = new ArrayList<>();
    private final List<BpfMapIterator> iterators = new ArrayList<>();
    private Pointer obj;
    private boolean loaded;
    private int cgroupFd = -1;
    private String cgroupPath = DEFAULT_CGROUP;

    private BpfObject(String name, Memory elf, Pointer obj) {
        this.name = name;
        this.elf = elf;
        this.obj = obj;
    }

    /** Opens (parses) an object from its ELF bytes; nothing is loaded into the kernel yet. */
    public static BpfObject open(String name, byte[] elfBytes) {
        LibbpfLog.install();
        LibbpfLog.clear();
        Memory mem = new Memory(elfBytes.length);
        mem.write(0, elfBytes, 0, elfBytes.length);
        Pointer obj = LibBpf.INSTANCE.bpf_object__open_mem(mem, elfBytes.length, null);
        if (obj == null) {
            int errno = Native.getLastError();
            throw new BpfException("cannot open BPF object " + name + ": " + Errno.describe(errno) + detail(), errno);
        }
        return new BpfObject(name, mem, obj);
    }

    public String name() {
        return name;
    }

    /** Program names (C function names) in the object. */
    public Set<String> programNames() {
        ensureOpen();
        Set<String> names = new LinkedHashSet<>();
        for (Pointer p = LibBpf.INSTANCE.bpf_object__next_program(obj, null); p != null;
                p = LibBpf.INSTANCE.bpf_object__next_program(obj, p)) {
            names.add(LibBpf.INSTANCE.bpf_program__name(p));
        }
        return names;
    }

    /** The ELF section of a program, e.g. {@code tp_btf/inet_sock_set_state}. */
    public String sectionOf(String program) {
        return LibBpf.INSTANCE.bpf_program__section_name(program(program));
    }

    /** Loads only the named programs; all others stay out of the kernel. Before {@link #load()}. */
    public void loadOnly(Set<String> programs) {
        ensureNotLoaded();
        Set<String> all = programNames();
        for (String p : programs) {
            if (!all.contains(p)) {
                throw new IllegalArgumentException("object " + name + " has no program " + p + " (has " + all + ")");
            }
        }
        for (String p : all) {
            LibBpf.INSTANCE.bpf_program__set_autoload(program(p), programs.contains(p));
        }
    }

    /** Writes a {@code const volatile} global (in .rodata) before load. */
    public void setConstant(String variable, byte[] value) {
        ensureNotLoaded();
        Btf.Var var = btf().datasecVar(".rodata", variable);
        if (var.size() != value.length) {
            throw new IllegalArgumentException("constant " + variable + " is " + var.size() + " bytes, got " + value.length);
        }
        Pointer rodata = LibBpf.INSTANCE.bpf_object__find_map_by_name(obj, ".rodata");
        LongByReference size = new LongByReference();
        Pointer data = rodata == null ? null : LibBpf.INSTANCE.bpf_map__initial_value(rodata, size);
        if (data == null || var.offset() + value.length > size.getValue()) {
            throw new IllegalStateException("object " + name + " has no writable .rodata for " + variable);
        }
        data.write(var.offset(), value, 0, value.length);
    }

    public void setConstantInt(String variable, int value) {
        setConstant(variable, Bytes.u32(value));
    }

    public void setConstantLong(String variable, long value) {
        setConstant(variable, Bytes.u64(value));
    }

    /** The object's BTF (types of its programs, maps and globals). */
    public Btf btf() {
        ensureOpen();
        Pointer btf = LibBpf.INSTANCE.bpf_object__btf(obj);
        if (btf == null) {
            throw new IllegalStateException("object " + name + " carries no BTF (compile with -g)");
        }
        return new Btf(btf);
    }

    /** Sets the cgroup v2 directory that cgroup programs attach to (default {@value #DEFAULT_CGROUP}). */
    public void setCgroupPath(String path) {
        this.cgroupPath = path;
    }

    /** Loads the chosen programs and all maps into the kernel (the verifier runs here). */
    public void load() {
        ensureNotLoaded();
        LibbpfLog.clear();
        int rc = LibBpf.INSTANCE.bpf_object__load(obj);
        if (rc < 0) {
            throw new BpfException("load of " + name + " failed: " + Errno.describe(rc) + detail(), -rc);
        }
        loaded = true;
    }

    public boolean isLoaded() {
        return loaded;
    }

    /** Attaches a loaded program; the link is owned by this object (and may be closed earlier). */
    public BpfLink attach(String program, AttachKind kind) {
        ensureOpen();
        if (!loaded) {
            throw new IllegalStateException("attach before load of " + name);
        }
        Pointer prog = program(program);
        LibbpfLog.clear();
        Pointer link;
        if (kind.cgroup()) {
            link = LibBpf.INSTANCE.bpf_program__attach_cgroup(prog, cgroupFd());
        } else {
            link = LibBpf.INSTANCE.bpf_program__attach(prog);
        }
        if (link == null) {
            int errno = Native.getLastError();
            throw new BpfException("attach of " + program + " (" + sectionOf(program) + ") failed: "
                    + Errno.describe(errno) + detail(), errno);
        }
        BpfLink l = new BpfLink(sectionOf(program), link);
        links.add(l);
        return l;
    }

    /**
     * Attaches a loaded iterator program to a map (see {@link BpfMapIterator}); the iterator is owned by
     * this object and closed with it.
     */
    public BpfMapIterator attachMapIterator(String program, String mapName) {
        BpfMapIterator it = BpfMapIterator.attach(programFd(program), program, map(mapName));
        iterators.add(it);
        return it;
    }

    /** The fd of a loaded program (e.g. for BPF_PROG_TEST_RUN). */
    public int programFd(String program) {
        int fd = LibBpf.INSTANCE.bpf_program__fd(program(program));
        if (fd < 0) {
            throw new BpfException("program " + program + " is not loaded", -fd);
        }
        return fd;
    }

    /** A map by name; global sections are named {@code .bss}, {@code .data}, {@code .rodata}. */
    public BpfMap map(String mapName) {
        ensureOpen();
        Pointer m = LibBpf.INSTANCE.bpf_object__find_map_by_name(obj, mapName);
        if (m == null) {
            throw new IllegalArgumentException("object " + name + " has no map " + mapName);
        }
        return new BpfMap(mapName, m, this);
    }

    /**
     * Runs a loaded program once per repetition on {@code data} with BPF_PROG_TEST_RUN (XDP, tc, ...);
     * returns the program's return value.
     */
    public int testRun(String program, byte[] data, int repeat) {
        Memory in = new Memory(data.length);
        in.write(0, data, 0, data.length);
        Memory opts = new Memory(80); // struct bpf_test_run_opts, libbpf 1.1
        opts.clear();
        opts.setLong(0, 80);          // sz
        opts.setPointer(8, in);       // data_in
        opts.setInt(24, data.length); // data_size_in
        opts.setInt(60, repeat);      // repeat
        int rc = LibBpf.INSTANCE.bpf_prog_test_run_opts(programFd(program), opts);
        if (rc < 0) {
            throw new BpfException("test run of " + program + " failed: " + Errno.describe(rc), -rc);
        }
        return opts.getInt(56); // retval
    }

    /**
     * Runs a loaded program once with no input (BPF_PROG_TEST_RUN), e.g. a {@code raw_tp} program
     * that refreshes maps on demand; returns its return value.
     */
    public int run(String program) {
        Memory opts = new Memory(80); // struct bpf_test_run_opts, libbpf 1.1
        opts.clear();
        opts.setLong(0, 80);
        int rc = LibBpf.INSTANCE.bpf_prog_test_run_opts(programFd(program), opts);
        if (rc < 0) {
            throw new BpfException("run of " + program + " failed: " + Errno.describe(rc), -rc);
        }
        return opts.getInt(56);
    }

    void ensureOpen() {
        if (obj == null) {
            throw new IllegalStateException("BPF object " + name + " is closed");
        }
    }

    private void ensureNotLoaded() {
        ensureOpen();
        if (loaded) {
            throw new IllegalStateException("BPF object " + name + " is already loaded");
        }
    }

    private Pointer program(String program) {
        ensureOpen();
        Pointer p = LibBpf.INSTANCE.bpf_object__find_program_by_name(obj, program);
        if (p == null) {
            throw new IllegalArgumentException("object " + name + " has no program " + program);
        }
        return p;
    }

    private int cgroupFd() {
        if (cgroupFd < 0) {
            cgroupFd = LibC.INSTANCE.open(cgroupPath, LibC.O_RDONLY | LibC.O_DIRECTORY | LibC.O_CLOEXEC);
            if (cgroupFd < 0) {
                int errno = Native.getLastError();
                throw new BpfException("cannot open cgroup " + cgroupPath + ": " + Errno.describe(errno), errno);
            }
        }
        return cgroupFd;
    }

    private static String detail() {
        String line = LibbpfLog.lastError();
        return line.isEmpty() ? "" : " [libbpf: " + line + "]";
    }

    @Override
    public void close() {
        if (obj == null) {
            return;
        }
        for (BpfMapIterator it : iterators) {
            it.close();
        }
        iterators.clear();
        for (int i = links.size() - 1; i >= 0; i--) {
            links.get(i).close();
        }
        links.clear();
        LibBpf.INSTANCE.bpf_object__close(obj);
        obj = null;
        if (cgroupFd >= 0) {
            LibC.INSTANCE.close(cgroupFd);
            cgroupFd = -1;
        }
        elf.close();
    }
}
