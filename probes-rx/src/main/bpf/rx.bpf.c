// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * probes-rx: time a received TCP segment spends in each layer of the kernel (MicroBPF "Receiving
 * packets"): MAC (eth_type_trans -> ip_rcv), IP (ip_rcv -> tcp_v4_rcv), TCP (tcp_v4_rcv ->
 * skb_copy_datagram_iter). Each boundary has hooks in order of preference (the Java side picks the
 * first that loads):
 *   MAC start: fentry/eth_type_trans, tp_btf/netif_rx_entry, tracepoint/net/netif_rx_entry
 *              (+ optional tp_btf/napi_gro_receive_entry for NAPI drivers)
 *   IP start:  fentry/ip_rcv (+ fentry/ipv6_rcv), tp_btf/netif_receive_skb, tracepoint/net/netif_receive_skb
 *   TCP start: fentry/tcp_v4_rcv (+ fentry/tcp_v6_rcv), cgroup_skb/ingress (tcp_filter inside
 *              tcp_v4_rcv, before the socket backlog), tp_btf/tcp_probe, tracepoint/tcp/tcp_probe
 *   TCP end:   fentry/skb_copy_datagram_iter, tp_btf/skb_copy_datagram_iovec, tracepoint/skb/...
 * Keys: MAC -> IP by skb pointer (the same skb travels); IP -> TCP by flow + seq + ack_seq (the
 * cgroup hook has no skb pointer); TCP -> application by sequence range in a per-socket ring (the
 * receive queue coalesces skbs, so the copied skb is often not the one that arrived).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "microbpf.h"
#include "microbpf_layer.h"
#include "rx.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* MAC start per skb (bounded: a packet that never reaches IP start is evicted) */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, __u64);
	__type(value, __u64);
} rx_mac SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, struct seg_key);
	__type(value, struct rx_stamp);
} rx_ip SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, struct flow_key);
	__type(value, struct rx_sock);
} rx_socks SEC(".maps");

MICROBPF_EXPORT_STRUCT(rx_seg);
MICROBPF_EXPORT_STRUCT(rx_sock);

/* ---- MAC start: stamp the skb ---- */

static __always_inline int on_mac_start(void *skb)
{
	__u64 key = (__u64)skb;
	__u64 now = bpf_ktime_get_ns();
	bpf_map_update_elem(&rx_mac, &key, &now, BPF_ANY);
	return 0;
}

SEC("fentry/eth_type_trans")
int BPF_PROG(rx_mac_fentry, struct sk_buff *skb, struct net_device *dev)
{
	return on_mac_start(skb);
}

SEC("tp_btf/netif_rx_entry")
int BPF_PROG(rx_mac_tp_btf, const struct sk_buff *skb)
{
	return on_mac_start((void *)skb);
}

SEC("tracepoint/net/netif_rx_entry")
int rx_mac_tracepoint(struct trace_event_raw_net_dev_rx_verbose_template *ctx)
{
	return on_mac_start((void *)ctx->skbaddr);
}

SEC("tp_btf/napi_gro_receive_entry")
int BPF_PROG(rx_mac_napi_tp_btf, const struct sk_buff *skb)
{
	return on_mac_start((void *)skb);
}

SEC("tracepoint/net/napi_gro_receive_entry")
int rx_mac_napi_tracepoint(struct trace_event_raw_net_dev_rx_verbose_template *ctx)
{
	return on_mac_start((void *)ctx->skbaddr);
}

/* ---- IP start: MAC sample; remember the segment ---- */

/* is_tcp: the program parsed the skb (p) and found TCP */
static __always_inline int on_ip_start(void *skb, struct pkt *pp, bool is_tcp)
{
	__u64 now = bpf_ktime_get_ns();
	__u64 key = (__u64)skb;
	__u64 *tm = bpf_map_lookup_elem(&rx_mac, &key);
	__u64 t_mac = tm ? *tm : 0;
	if (tm)
		bpf_map_delete_elem(&rx_mac, &key);
	if (!is_tcp)
		return 0;
	struct pkt p = *pp;
	struct layer_knobs *k = layer_knobs();
	if (t_mac)
		layer_sample(RX_MAC, &p.flow, now - t_mac, k);
	else
		layer_stat(RX_STAT_NO_MAC);
	struct seg_key sk;
	key_of(&sk, &p);
	struct rx_stamp st = {.t_mac = t_mac, .t_ip = now};
	bpf_map_update_elem(&rx_ip, &sk, &st, BPF_ANY);
	layer_stat(RX_STAT_IP_INSERTED);
	return 0;
}

SEC("fentry/ip_rcv")
int BPF_PROG(rx_ip_fentry, struct sk_buff *skb, struct net_device *dev)
{
	struct pkt p;
	bool tcp = PARSE_SKB_RX_BTF(skb, &p);
	return on_ip_start(skb, &p, tcp);
}

SEC("fentry/ipv6_rcv")
int BPF_PROG(rx_ip6_fentry, struct sk_buff *skb, struct net_device *dev)
{
	struct pkt p;
	bool tcp = PARSE_SKB_RX_BTF(skb, &p);
	return on_ip_start(skb, &p, tcp);
}

SEC("tp_btf/netif_receive_skb")
int BPF_PROG(rx_ip_tp_btf, struct sk_buff *skb)
{
	struct pkt p;
	bool tcp = PARSE_SKB_RX_BTF(skb, &p);
	return on_ip_start(skb, &p, tcp);
}

SEC("tracepoint/net/netif_receive_skb")
int rx_ip_tracepoint(struct trace_event_raw_net_dev_template *ctx)
{
	struct pkt p;
	bool tcp = parse_skb_rx((struct sk_buff *)ctx->skbaddr, &p);
	return on_ip_start(ctx->skbaddr, &p, tcp);
}

/* ---- TCP start: IP sample; queue the segment on its socket until the application copies it ---- */

static __always_inline int on_tcp_start(struct pkt *p, __u32 rcv_nxt, bool have_rcv_nxt)
{
	__u64 now = bpf_ktime_get_ns();
	struct seg_key key;
	key_of(&key, p);
	struct rx_stamp *st = bpf_map_lookup_elem(&rx_ip, &key);
	struct layer_knobs *k = layer_knobs();
	struct rx_seg seg = {};
	if (st) {
		seg.t_mac = st->t_mac;
		seg.t_ip = st->t_ip;
		layer_sample(RX_IP, &p->flow, now - st->t_ip, k);
		bpf_map_delete_elem(&rx_ip, &key);
		layer_stat(RX_STAT_IP_CONSUMED);
	} else {
		layer_stat(RX_STAT_NO_IP);
	}
	if (p->payload == 0)
		return 0;
	seg.seq = p->seq;
	seg.end_seq = p->seq + p->payload;
	if (have_rcv_nxt && (__s32)(seg.end_seq - rcv_nxt) <= 0) {
		layer_stat(RX_STAT_DUPLICATE);
		return 0;
	}
	seg.t_tcp = now;
	struct rx_sock *rs = bpf_map_lookup_elem(&rx_socks, &p->flow);
	if (!rs) {
		static const struct rx_sock empty = {};
		bpf_map_update_elem(&rx_socks, &p->flow, &empty, BPF_NOEXIST);
		rs = bpf_map_lookup_elem(&rx_socks, &p->flow);
		if (!rs)
			return 0;
	}
	__u32 tail = rs->tail;
	if (tail - rs->head >= RX_RING) {
		rs->head = tail - RX_RING + 1;
		layer_stat(RX_STAT_RING_FULL);
	}
	rs->segs[tail & (RX_RING - 1)] = seg;
	rs->tail = tail + 1;
	return 0;
}

SEC("fentry/tcp_v4_rcv")
int BPF_PROG(rx_tcp_fentry, struct sk_buff *skb)
{
	struct pkt p;
	if (PARSE_SKB_NH_BTF(skb, &p))
		on_tcp_start(&p, 0, false);
	return 0;
}

SEC("fentry/tcp_v6_rcv")
int BPF_PROG(rx_tcp6_fentry, struct sk_buff *skb)
{
	struct pkt p;
	if (PARSE_SKB_NH_BTF(skb, &p))
		on_tcp_start(&p, 0, false);
	return 0;
}

SEC("cgroup_skb/ingress")
int rx_tcp_cgroup(struct __sk_buff *skb)
{
	struct pkt p;
	if (!parse_cgroup_skb(skb, &p))
		return 1;
	__u32 rcv_nxt = 0;
	bool have = false;
	struct bpf_sock *sk = skb->sk;
	if (sk) {
		struct bpf_tcp_sock *tp = bpf_tcp_sock(sk);
		if (tp) {
			rcv_nxt = tp->rcv_nxt;
			have = true;
		}
	}
	on_tcp_start(&p, rcv_nxt, have);
	return 1; /* observe only: always let the packet through */
}

SEC("tp_btf/tcp_probe")
int BPF_PROG(rx_tcp_tp_btf, struct sock *sk, const struct sk_buff *skb)
{
	struct pkt p;
	struct tcp_sock *tp = bpf_skc_to_tcp_sock(sk);
	if (tp && PARSE_SKB_NH_BTF(skb, &p))
		on_tcp_start(&p, tp->rcv_nxt, true);
	return 0;
}

SEC("tracepoint/tcp/tcp_probe")
int rx_tcp_tracepoint(struct trace_event_raw_tcp_probe *ctx)
{
	struct pkt p;
	if (parse_skb_nh((struct sk_buff *)ctx->skbaddr, &p))
		on_tcp_start(&p, BPF_CORE_READ((struct tcp_sock *)ctx->skaddr, rcv_nxt), true);
	return 0;
}

/* ---- TCP end: the application copies [copied_seq, copied_seq + len) ---- */

static __always_inline void emit(struct rx_seg *s, struct flow_key *flow, __u64 now, __u32 hash)
{
	struct seg_event *e = microbpf_reserve(sizeof(*e));
	if (!e)
		return;
	e->ts[0] = s->t_mac;
	e->ts[1] = s->t_ip;
	e->ts[2] = s->t_tcp;
	e->ts[3] = now;
	e->ts[4] = 0;
	__builtin_memcpy(&e->flow, flow, sizeof(e->flow));
	e->seq = s->seq;
	e->len = s->end_seq - s->seq;
	e->hash = hash;
	e->dir = 0;
	e->pad[0] = e->pad[1] = e->pad[2] = 0;
	bpf_ringbuf_submit(e, 0);
	layer_stat(RX_STAT_EVENTS);
}

struct copy_ctx {
	struct rx_sock *rs;
	struct layer_knobs *k;
	__u64 now;
	struct flow_key flow;
	__u32 upto;
};

/* bpf_loop callback: one segment of the ring; 1 stops the loop */
static long consume_one(__u32 i, void *data)
{
	struct copy_ctx *c = data;
	struct rx_sock *rs = c->rs;
	if (!rs)
		return 1;
	__u32 head = rs->head;
	if (head == rs->tail)
		return 1;
	struct rx_seg *s = &rs->segs[head & (RX_RING - 1)];
	if ((__s32)(s->end_seq - c->upto) > 0)
		return 1;
	layer_sample(RX_TCP, &c->flow, c->now - s->t_tcp, c->k);
	if (c->k && c->k->events) {
		__u32 hash = seg_hash(&c->flow, s->seq);
		if (sampled(c->k, hash))
			emit(s, &c->flow, c->now, hash);
	}
	rs->head = head + 1;
	return 0;
}

static __always_inline int on_copy(struct sk_buff *skb, int len)
{
	if (len <= 0)
		return 0;
	struct sock *sk = BPF_CORE_READ(skb, sk);
	if (!sk || BPF_CORE_READ(sk, sk_protocol) != LAYER_IPPROTO_TCP)
		return 0;
	struct copy_ctx c = {};
	c.now = bpf_ktime_get_ns();
	if (!flow_of_sock(sk, false, &c.flow))
		return 0;
	c.rs = bpf_map_lookup_elem(&rx_socks, &c.flow);
	if (!c.rs) {
		layer_stat(RX_STAT_NO_RING);
		return 0;
	}
	c.upto = BPF_CORE_READ((struct tcp_sock *)sk, copied_seq) + len;
	c.k = layer_knobs();
	/* every segment whose last byte is now copied has left the TCP layer */
	bpf_loop(RX_RING, consume_one, &c, 0);
	return 0;
}

SEC("fentry/skb_copy_datagram_iter")
int BPF_PROG(rx_copy_fentry, const struct sk_buff *skb, int offset, struct iov_iter *to, int len)
{
	return on_copy((struct sk_buff *)skb, len);
}

SEC("tp_btf/skb_copy_datagram_iovec")
int BPF_PROG(rx_copy_tp_btf, const struct sk_buff *skb, int len)
{
	return on_copy((struct sk_buff *)skb, len);
}

SEC("tracepoint/skb/skb_copy_datagram_iovec")
int rx_copy_tracepoint(struct trace_event_raw_skb_copy_datagram_iovec *ctx)
{
	return on_copy((struct sk_buff *)ctx->skbaddr, ctx->len);
}
