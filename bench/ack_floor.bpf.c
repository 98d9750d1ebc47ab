// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * "floor" configuration of bench/run-ack-overhead-bench.sh: empty programs on exactly the hooks
 * (same attach types) the ack probe uses here, so the cost of attachment alone is known:
 * tp_btf/inet_sock_set_state, tp_btf/tcp_probe, sockops with RTT_CB enabled per established socket
 * (as the probe does), tp_btf/tcp_retransmit_skb, tp_btf/sock_recv_length, tp_btf/sock_send_length.
 * Loaded and attached by ack_floor_loader.c.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "Dual BSD/GPL";

SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(floor_conn, const struct sock *sk, const int oldstate, const int newstate) { return 0; }

SEC("tp_btf/tcp_probe")
int BPF_PROG(floor_ack, struct sock *sk, const struct sk_buff *skb) { return 0; }

SEC("tp_btf/tcp_retransmit_skb")
int BPF_PROG(floor_retrans, const struct sock *sk, const struct sk_buff *skb) { return 0; }

SEC("tp_btf/sock_recv_length")
int BPF_PROG(floor_recv, struct sock *sk, int ret, int flags) { return 0; }

SEC("tp_btf/sock_send_length")
int BPF_PROG(floor_send, struct sock *sk, int ret, int flags) { return 0; }

SEC("sockops")
int floor_sockops(struct bpf_sock_ops *skops)
{
	/* the probe enables the per-RTT-sample callback on every established socket: so does the floor */
	if (skops->op == BPF_SOCK_OPS_ACTIVE_ESTABLISHED_CB || skops->op == BPF_SOCK_OPS_PASSIVE_ESTABLISHED_CB)
		bpf_sock_ops_cb_flags_set(skops, skops->bpf_sock_ops_cb_flags | BPF_SOCK_OPS_RTT_CB_FLAG);
	return 1;
}
