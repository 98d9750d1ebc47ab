package io.microbpf.api.bpf;

import com.sun.jna.Pointer;
import io.microbpf.core.internal.jna.LibBpf;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Read-only view of a BPF object's BTF: struct layouts (to check the Java mirrors of event structs)
 * and the offsets of globals in data sections (to set {@code const volatile} knobs).
 * Valid while its {@link BpfObject} is open.
 */
public final class Btf {
    /** A global variable in a data section. */
    public record Var(String name, int offset, int size) {}

    /** A struct's size and the byte offset of each member (bitfields: of their first byte). */
    public record StructLayout(String name, int size, Map<String, Integer> offsets) {}

    private final Pointer btf;

    Btf(Pointer btf) {
        this.btf = btf;
    }

    /** Layout of {@code struct name}; throws if the object's BTF has no such struct. */
    public StructLayout struct(String name) {
        int id = LibBpf.INSTANCE.btf__find_by_name_kind(btf, name, LibBpf.BTF_KIND_STRUCT);
        if (id < 0) {
            throw new IllegalArgumentException("no struct " + name + " in BTF");
        }
        Pointer t = LibBpf.INSTANCE.btf__type_by_id(btf, id);
        int info = t.getInt(4);
        int vlen = info & 0xffff;
        boolean kindFlag = (info >>> 31) != 0;
        int size = t.getInt(8);
        Map<String, Integer> offsets = new LinkedHashMap<>();
        for (int i = 0; i < vlen; i++) {
            long m = 12 + 12L * i; // struct btf_member { u32 name_off; u32 type; u32 offset; }
            String member = LibBpf.INSTANCE.btf__name_by_offset(btf, t.getInt(m));
            int bits = t.getInt(m + 8);
            int bitOffset = kindFlag ? bits & 0xffffff : bits;
            offsets.put(member, bitOffset / 8);
        }
        return new StructLayout(name, size, offsets);
    }

    /** A variable in a data section such as {@code .rodata} or {@code .bss}. */
    public Var datasecVar(String section, String variable) {
        int id = LibBpf.INSTANCE.btf__find_by_name_kind(btf, section, LibBpf.BTF_KIND_DATASEC);
        if (id < 0) {
            throw new IllegalArgumentException("no section " + section + " in BTF");
        }
        Pointer t = LibBpf.INSTANCE.btf__type_by_id(btf, id);
        int vlen = t.getInt(4) & 0xffff;
        for (int i = 0; i < vlen; i++) {
            long s = 12 + 12L * i; // struct btf_var_secinfo { u32 type; u32 offset; u32 size; }
            Pointer var = LibBpf.INSTANCE.btf__type_by_id(btf, t.getInt(s));
            String name = LibBpf.INSTANCE.btf__name_by_offset(btf, var.getInt(0));
            if (variable.equals(name)) {
                return new Var(name, t.getInt(s + 4), t.getInt(s + 8));
            }
        }
        throw new IllegalArgumentException("no variable " + variable + " in section " + section);
    }
}
