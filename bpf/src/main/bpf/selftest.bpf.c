// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Programs the core's own tests load into the real kernel:
 *  - xdp_emit: one 64-byte event per run (driven with BPF_PROG_TEST_RUN), to test
 *    the ring buffer reader, its counters and the loss counter;
 *  - four candidates for one attach point ("tcp-state-change"), to test hook fallback:
 *    fentry (EPERM here), kprobe (CONFIG_KPROBES off here), tp_btf, classic tracepoint;
 *  - one program per other attach kind the probes use (raw_tracepoint, sockops, cgroup_skb);
 *  - a hash map for the map API test.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "microbpf.h"
#include "selftest.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

MICROBPF_EXPORT_STRUCT(selftest_event);

/* Set by user space before load; copied into every event. */
const volatile __u32 knob_tag = 0;

__u64 next_seq = 0;
__u64 state_changes[4] = {};
/* callbacks seen by the other attach kinds: [0] raw_tracepoint, [1] sockops, [2] cgroup_skb egress */
__u64 other_hooks[3] = {};

/* For the map API test: plain hash map, filled from user space. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16);
	__type(key, __u32);
	__type(value, __u64);
} kv SEC(".maps");

/* For the map-iterator test: kv's values summed and counted by kv_sum, one pass per run. */
__u64 kv_iter_sum = 0;
__u64 kv_iter_count = 0;

SEC("iter/bpf_map_elem")
int kv_sum(struct bpf_iter__bpf_map_elem *ctx)
{
	__u64 *v = ctx->value;
	if (!v)
		return 0;
	kv_iter_sum += *v;
	kv_iter_count++;
	return 0;
}

SEC("xdp")
int xdp_emit(struct xdp_md *ctx)
{
	struct selftest_event *e = microbpf_reserve(sizeof(*e));
	if (!e)
		return XDP_PASS;
	e->seq = __sync_fetch_and_add(&next_seq, 1);
	e->ts_ns = bpf_ktime_get_ns();
	e->tag = knob_tag;
	e->len = ctx->data_end - ctx->data;
	__builtin_memset(e->pad, 0, sizeof(e->pad));
	bpf_ringbuf_submit(e, 0);
	return XDP_PASS;
}

SEC("fentry/tcp_set_state")
int BPF_PROG(state_fentry, struct sock *sk, int state)
{
	__sync_fetch_and_add(&state_changes[0], 1);
	return 0;
}

SEC("kprobe/tcp_set_state")
int state_kprobe(struct pt_regs *ctx)
{
	__sync_fetch_and_add(&state_changes[1], 1);
	return 0;
}

SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(state_tp_btf, const struct sock *sk, const int oldstate, const int newstate)
{
	__sync_fetch_and_add(&state_changes[2], 1);
	return 0;
}

SEC("tracepoint/sock/inet_sock_set_state")
int state_tracepoint(void *ctx)
{
	__sync_fetch_and_add(&state_changes[3], 1);
	return 0;
}

SEC("raw_tracepoint/inet_sock_set_state")
int state_raw_tp(struct bpf_raw_tracepoint_args *ctx)
{
	__sync_fetch_and_add(&other_hooks[0], 1);
	return 0;
}

SEC("sockops")
int sockops_count(struct bpf_sock_ops *skops)
{
	__sync_fetch_and_add(&other_hooks[1], 1);
	return 1;
}

SEC("cgroup_skb/egress")
int egress_count(struct __sk_buff *skb)
{
	__sync_fetch_and_add(&other_hooks[2], 1);
	return 1; /* let the packet go */
}
