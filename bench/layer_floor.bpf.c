// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The floor of the rx/tx probes' cost: programs that return at once, on exactly the hooks and
 * attach types the probes use on our kernel (fentry is refused here, so the first fallback of each
 * boundary; see `microbpf:probe-list`). Whatever this costs, no probe program on these hooks can
 * cost less. Loaded and attached by layer_attach.c (bench/run-layer-overhead-bench.sh, config "floor").
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* rx */
SEC("tp_btf/netif_rx_entry")
int BPF_PROG(floor_rx_mac, const struct sk_buff *skb) { return 0; }

SEC("tp_btf/napi_gro_receive_entry")
int BPF_PROG(floor_rx_mac_napi, const struct sk_buff *skb) { return 0; }

SEC("tp_btf/netif_receive_skb")
int BPF_PROG(floor_rx_ip, struct sk_buff *skb) { return 0; }

SEC("cgroup_skb/ingress")
int floor_rx_tcp(struct __sk_buff *skb) { return 1; }

SEC("tp_btf/skb_copy_datagram_iovec")
int BPF_PROG(floor_rx_copy, const struct sk_buff *skb, int len) { return 0; }

/* tx */
SEC("tp_btf/tcp_sendmsg_locked")
int BPF_PROG(floor_tx_write, const struct sock *sk, const struct msghdr *msg, const struct sk_buff *skb, int size_goal) { return 0; }

SEC("cgroup_skb/egress")
int floor_tx_ip(struct __sk_buff *skb) { return 1; }

SEC("tp_btf/net_dev_queue")
int BPF_PROG(floor_tx_devq, struct sk_buff *skb) { return 0; }

SEC("tp_btf/qdisc_dequeue")
int BPF_PROG(floor_tx_deq, struct Qdisc *q, const struct netdev_queue *txq, int packets, struct sk_buff *skb) { return 0; }

SEC("tp_btf/net_dev_start_xmit")
int BPF_PROG(floor_tx_xmit, const struct sk_buff *skb, const struct net_device *dev) { return 0; }
