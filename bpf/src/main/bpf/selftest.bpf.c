// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Programs the core's own tests load into the real kernel:
 *  - xdp_emit: one 64-byte event per run (driven with BPF_PROG_TEST_RUN), to test
 *    the ring buffer reader, its counters and the loss counter;
 *  - four candidates for one attach point ("tcp-state-change"), to test hook fallback:
 *    fentry (EPERM here), kprobe (CONFIG_KPROBES off here), tp_btf, classic tracepoint.
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
