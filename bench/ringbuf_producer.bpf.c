// SPDX-License-Identifier: GPL-2.0
/*
 * Ring-buffer benchmark producer.
 *
 * An XDP program that is never attached: bench/producer.c drives it with
 * BPF_PROG_TEST_RUN (repeat = up to 1,000,000 per call). Every invocation is one
 * "event":
 *   - takes the next sequence number (0, 1, 2, ... per load; the sequence advances
 *     on every invocation, also when the reservation fails, so a lost event shows
 *     up as a gap in the sequence the consumer sees),
 *   - reserves a 64-byte sample in the ring buffer `events` (a ring-buffer record is
 *     8-byte header + 64-byte sample = 72 bytes of ring space),
 *   - writes seq, bpf_ktime_get_ns() and 48 bytes of zero padding, submits it
 *     (flags 0: the kernel's default adaptive wakeup),
 *   - or, when the reservation fails (ring full), increments events_lost[0].
 *
 * Single producer: BPF_PROG_TEST_RUN runs all repetitions of one call on one CPU
 * and producer.c issues calls from one thread, so the plain increment of `seq`
 * is race-free (an atomic fetch-add would need -mcpu=v3).
 *
 * Build: clang -g -O2 -target bpf -D__TARGET_ARCH_x86 -I/usr/include/x86_64-linux-gnu \
 *          -c ringbuf_producer.bpf.c -o ringbuf_producer.bpf.o
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#define SAMPLE_SIZE 64

struct bench_event {
	__u64 seq;      /* 0-based, per program load */
	__u64 ts_ns;    /* bpf_ktime_get_ns() at reservation */
	__u8 pad[SAMPLE_SIZE - 16];
};

_Static_assert(sizeof(struct bench_event) == SAMPLE_SIZE, "sample must be 64 bytes");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 16 * 1024 * 1024); /* default; producer.c may change it before load */
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} events_lost SEC(".maps");

__u64 seq = 0;

SEC("xdp")
int ringbuf_produce(struct xdp_md *ctx)
{
	__u64 s = seq++;
	struct bench_event *e;

	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		__u32 zero = 0;
		__u64 *lost = bpf_map_lookup_elem(&events_lost, &zero);

		if (lost)
			__sync_fetch_and_add(lost, 1);
		return XDP_PASS;
	}
	e->seq = s;
	e->ts_ns = bpf_ktime_get_ns();
	__builtin_memset(e->pad, 0, sizeof(e->pad));
	bpf_ringbuf_submit(e, 0);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
