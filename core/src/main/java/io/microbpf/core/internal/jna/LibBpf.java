package io.microbpf.core.internal.jna;

import com.sun.jna.Callback;
import com.sun.jna.Library;
import com.sun.jna.Native;
import com.sun.jna.Pointer;
import com.sun.jna.ptr.LongByReference;

/**
 * The part of libbpf 1.x (Debian's libbpf.so.1) that MicroBPF calls. Functions returning a pointer
 * return {@code null} and set errno on failure; functions returning int return a negative errno.
 */
public interface LibBpf extends Library {
    LibBpf INSTANCE = Native.load("bpf", LibBpf.class);

    int BTF_KIND_STRUCT = 4;
    int BTF_KIND_DATASEC = 15;

    /** libbpf_print_fn_t: int (*)(enum libbpf_print_level level, const char *fmt, va_list args). */
    interface PrintFn extends Callback {
        int invoke(int level, String format, Pointer vaList);
    }

    Pointer libbpf_set_print(PrintFn fn);

    Pointer bpf_object__open_mem(Pointer buf, long size, Pointer opts);
    int bpf_object__load(Pointer obj);
    void bpf_object__close(Pointer obj);
    Pointer bpf_object__btf(Pointer obj);
    Pointer bpf_object__next_program(Pointer obj, Pointer prev);
    Pointer bpf_object__find_program_by_name(Pointer obj, String name);
    Pointer bpf_object__find_map_by_name(Pointer obj, String name);

    String bpf_program__name(Pointer prog);
    String bpf_program__section_name(Pointer prog);
    int bpf_program__set_autoload(Pointer prog, boolean autoload);
    int bpf_program__fd(Pointer prog);
    Pointer bpf_program__attach(Pointer prog);
    Pointer bpf_program__attach_cgroup(Pointer prog, int cgroupFd);

    int bpf_link__destroy(Pointer link);
    int bpf_link__fd(Pointer link);

    int bpf_map__fd(Pointer map);
    int bpf_map__set_max_entries(Pointer map, int maxEntries);
    int bpf_map__max_entries(Pointer map);
    int bpf_map__key_size(Pointer map);
    int bpf_map__value_size(Pointer map);
    int bpf_map__type(Pointer map);
    Pointer bpf_map__initial_value(Pointer map, LongByReference size);

    int btf__find_by_name_kind(Pointer btf, String name, int kind);
    Pointer btf__type_by_id(Pointer btf, int id);
    String btf__name_by_offset(Pointer btf, int offset);

    int bpf_map_lookup_elem(int fd, Pointer key, Pointer value);
    int bpf_map_update_elem(int fd, Pointer key, Pointer value, long flags);
    int bpf_map_delete_elem(int fd, Pointer key);
    int bpf_map_get_next_key(int fd, Pointer key, Pointer nextKey);
    int bpf_map_lookup_batch(int fd, Pointer inBatch, Pointer outBatch, Pointer keys, Pointer values,
            com.sun.jna.ptr.IntByReference count, Pointer opts);
    int bpf_obj_get(String path);
    int bpf_obj_get_info_by_fd(int fd, Pointer info, com.sun.jna.ptr.IntByReference infoLen);
    int bpf_prog_test_run_opts(int progFd, Pointer opts);
    /** opts: struct bpf_link_create_opts (libbpf 1.1). */
    int bpf_link_create(int progFd, int targetFd, int attachType, Pointer opts);
    int bpf_iter_create(int linkFd);

    int libbpf_num_possible_cpus();
}
