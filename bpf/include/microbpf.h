/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Shared by every MicroBPF probe program: the event ring buffer and the
 * counter of events the kernel could not hand over.
 *
 * User space contract (io.microbpf.api.bpf.RingBufferReader):
 *   - map "events": BPF_MAP_TYPE_RINGBUF, size set before load;
 *   - map "events_lost": 1-entry PERCPU_ARRAY of __u64, summed over CPUs.
 */
#ifndef MICROBPF_H
#define MICROBPF_H

#include <bpf/bpf_helpers.h>

#ifndef MICROBPF_RINGBUF_BYTES
#define MICROBPF_RINGBUF_BYTES (4 * 1024 * 1024)
#endif

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, MICROBPF_RINGBUF_BYTES);
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} events_lost SEC(".maps");

/* Reserves room for one event; counts the loss when the ring is full. */
static __always_inline void *microbpf_reserve(__u64 size)
{
	void *e = bpf_ringbuf_reserve(&events, size, 0);
	if (!e) {
		__u32 zero = 0;
		__u64 *lost = bpf_map_lookup_elem(&events_lost, &zero);
		if (lost)
			(*lost)++;
	}
	return e;
}

/*
 * Keeps an event struct in the object's BTF even though programs only use it through
 * ring buffer pointers, so user space can check its Java mirror against the compiled layout.
 */
#define MICROBPF_EXPORT_STRUCT(s) struct s *__microbpf_export_##s __attribute__((unused))

/* Address families as the kernel numbers them. */
#define MICROBPF_AF_INET 2
#define MICROBPF_AF_INET6 10

#endif /* MICROBPF_H */
