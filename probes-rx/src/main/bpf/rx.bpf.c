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

/* MAC start per skb, direct-mapped per CPU (MAC and IP start run on the CPU whose backlog or NAPI
 * context holds the packet; with RPS steering packets to another CPU, they count as unmatched) */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1 << RX_MAC_BITS);
	__type(key, __u32);
	__type(value, struct rx_mac_slot);
} rx_mac SEC(".maps");

/* TCP packets between IP start and TCP start (one softirq pass on one CPU), direct-mapped per CPU,
 * keyed by the address of the network header (the cgroup hook has no skb pointer, but it has the
 * packet's data pointer, which is that address) */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1 << RX_IP_BITS);
	__type(key, __u32);
	__type(value, struct rx_ip_slot);
} rx_ip SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, struct flow_key);
	__type(value, struct rx_sock);
} rx_socks SEC(".maps");

MICROBPF_EXPORT_STRUCT(rx_seg);

extern void *bpf_rdonly_cast(const void *obj, __u32 btf_id) __ksym;
MICROBPF_EXPORT_STRUCT(rx_sock);

/* ---- MAC start: stamp the skb ---- */

static __always_inline int on_mac_start(void *skb)
{
	__u32 key = ptr_lo32((__u64)skb);
	__u32 i = slot_of(key, RX_MAC_BITS);
	struct rx_mac_slot *s = bpf_map_lookup_elem(&rx_mac, &i);
	if (!s)
		return 0;
	if (s->live)
		layer_stat(RX_STAT_MAC_EVICTED);
	s->skb = key;
	s->live = 1;
	s->t_mac = bpf_ktime_get_ns();
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

/* ---- IP start: take the skb's MAC stamp; stamp TCP packets for TCP start, which knows the flow ---- */

/*
 * Cheap filter without parsing the packet: data points at the network header (or at VLAN tags,
 * skipped); one read of its first 10 bytes gives the IP version and the (first) next protocol.
 * Returns the network header's address, or 0 when this is not (possibly) TCP.
 */
static __always_inline __u64 tcp_l3_at(const unsigned char *data, __u16 proto_be)
{
	for (int i = 0; i < 2; i++) {
		if (proto_be != ETH_P_8021Q_BE && proto_be != ETH_P_8021AD_BE)
			break;
		if (bpf_probe_read_kernel(&proto_be, 2, data + 2))
			return 0;
		data += 4;
	}
	__u8 h[10];
	if (bpf_probe_read_kernel(h, sizeof(h), data))
		return 0;
	__u8 v = h[0] >> 4;
	if (proto_be != 0 && proto_be != ETH_P_IP_BE && proto_be != ETH_P_IPV6_BE)
		return 0;
	if (v == 4)
		return h[9] == LAYER_IPPROTO_TCP ? (__u64)data : 0;
	if (v == 6) /* TCP, or an extension header that TCP start parses through */
		return h[6] == LAYER_IPPROTO_TCP || h[6] == 0 || h[6] == 43 || h[6] == 60 ? (__u64)data : 0;
	return 0;
}

static __always_inline int on_ip_start(void *skb, __u64 l3)
{
	__u64 now = bpf_ktime_get_ns();
	__u32 skb_key = ptr_lo32((__u64)skb);
	__u32 i = slot_of(skb_key, RX_MAC_BITS);
	struct rx_mac_slot *m = bpf_map_lookup_elem(&rx_mac, &i);
	__u64 t_mac = 0;
	if (m && m->live && m->skb == skb_key) {
		t_mac = m->t_mac;
		m->live = 0;
	}
	if (!l3)
		return 0;
	__u32 key = ptr_lo32(l3);
	__u32 j = slot_of(key, RX_IP_BITS);
	struct rx_ip_slot *s = bpf_map_lookup_elem(&rx_ip, &j);
	if (!s)
		return 0;
	if (s->live)
		layer_stat(RX_STAT_IP_EVICTED);
	s->l3 = key;
	s->live = 1;
	s->t_mac = t_mac;
	s->t_ip = now;
	layer_stat(RX_STAT_IP_INSERTED);
	return 0;
}

SEC("fentry/ip_rcv")
int BPF_PROG(rx_ip_fentry, struct sk_buff *skb, struct net_device *dev)
{
	return on_ip_start(skb, tcp_l3_at(skb->data, skb->protocol));
}

SEC("fentry/ipv6_rcv")
int BPF_PROG(rx_ip6_fentry, struct sk_buff *skb, struct net_device *dev)
{
	return on_ip_start(skb, tcp_l3_at(skb->data, skb->protocol));
}

SEC("tp_btf/netif_receive_skb")
int BPF_PROG(rx_ip_tp_btf, struct sk_buff *skb)
{
	return on_ip_start(skb, tcp_l3_at(skb->data, skb->protocol));
}

SEC("tracepoint/net/netif_receive_skb")
int rx_ip_tracepoint(struct trace_event_raw_net_dev_template *ctx)
{
	struct sk_buff *skb = (struct sk_buff *)ctx->skbaddr;
	return on_ip_start(skb, tcp_l3_at(BPF_CORE_READ(skb, data), BPF_CORE_READ(skb, protocol)));
}

/* ---- TCP start: MAC and IP samples; queue the segment on its socket until the application copies it ---- */

/* l3: low 32 bits of the network header's address (the rx_ip key) */
static __always_inline int on_tcp_start(struct pkt *p, __u32 l3, __u32 rcv_nxt, bool have_rcv_nxt)
{
	__u64 now = bpf_ktime_get_ns();
	struct layer_knobs *k = layer_knobs();
	struct rx_seg seg = {};
	__u32 j = slot_of(l3, RX_IP_BITS);
	struct rx_ip_slot *st = bpf_map_lookup_elem(&rx_ip, &j);
	if (st && st->live && st->l3 == l3) {
		seg.t_mac = st->t_mac;
		seg.t_ip = st->t_ip;
		st->live = 0;
		layer_stat(RX_STAT_IP_CONSUMED);
		struct flow_hists *fh = layer_flow_hists(&p->flow, k); /* once for both layers */
		if (seg.t_mac)
			layer_sample(RX_MAC, seg.t_ip - seg.t_mac, fh);
		else
			layer_stat(RX_STAT_NO_MAC);
		layer_sample(RX_IP, now - seg.t_ip, fh);
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
	/* keep the ring in sequence order: the copy consumes from the head and stops at the first segment
	 * not yet delivered, so a segment queued behind a later one would be reported delivered late */
	__u32 pos = tail;
	bool placed = false;
	for (int i = 0; i < RX_REORDER_DEPTH; i++) {
		if (pos == rs->head) {
			placed = true;
			break;
		}
		struct rx_seg *prev = &rs->segs[(pos - 1) & (RX_RING - 1)];
		if ((__s32)(prev->seq - seg.seq) <= 0) {
			placed = true;
			break;
		}
		rs->segs[pos & (RX_RING - 1)] = *prev;
		pos--;
	}
	if (pos != tail)
		layer_stat(placed ? RX_STAT_REORDERED : RX_STAT_REORDER_DEEP);
	rs->segs[pos & (RX_RING - 1)] = seg;
	rs->tail = tail + 1;
	return 0;
}

/* tcp_v4_rcv / tcp_v6_rcv / tcp_rcv_established: the network header is set (head + network_header) */
#define L3_LO32_BTF(skb) ptr_lo32((__u64)((skb)->head + (skb)->network_header))

SEC("fentry/tcp_v4_rcv")
int BPF_PROG(rx_tcp_fentry, struct sk_buff *skb)
{
	struct pkt p;
	if (PARSE_SKB_NH_BTF(skb, &p))
		on_tcp_start(&p, L3_LO32_BTF(skb), 0, false);
	return 0;
}

SEC("fentry/tcp_v6_rcv")
int BPF_PROG(rx_tcp6_fentry, struct sk_buff *skb)
{
	struct pkt p;
	if (PARSE_SKB_NH_BTF(skb, &p))
		on_tcp_start(&p, L3_LO32_BTF(skb), 0, false);
	return 0;
}

SEC("cgroup_skb/ingress")
int rx_tcp_cgroup(struct __sk_buff *skb)
{
	__u32 l3 = ptr_lo32(skb->data); /* first: the verifier wants ctx loads from the unmodified ctx pointer */
	struct pkt p;
	int r = parse_cgroup_skb_direct(skb, &p);
	if (r < 0)
		r = parse_cgroup_skb(skb, &p);
	if (r <= 0)
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
	on_tcp_start(&p, l3, rcv_nxt, have);
	return 1; /* observe only: always let the packet through */
}

/* tcp_rcv_established may run from the socket backlog on another CPU than IP start: such segments
 * find no IP-start entry (per-CPU) and count as unmatched.tcp-start */
SEC("tp_btf/tcp_probe")
int BPF_PROG(rx_tcp_tp_btf, struct sock *sk, const struct sk_buff *skb)
{
	struct pkt p;
	struct tcp_sock *tp = bpf_skc_to_tcp_sock(sk);
	if (tp && PARSE_SKB_NH_BTF(skb, &p))
		on_tcp_start(&p, L3_LO32_BTF(skb), tp->rcv_nxt, true);
	return 0;
}

SEC("tracepoint/tcp/tcp_probe")
int rx_tcp_tracepoint(struct trace_event_raw_tcp_probe *ctx)
{
	struct pkt p;
	struct sk_buff *skb = (struct sk_buff *)ctx->skbaddr;
	if (parse_skb_nh(skb, &p))
		on_tcp_start(&p, ptr_lo32((__u64)(BPF_CORE_READ(skb, head) + BPF_CORE_READ(skb, network_header))),
			     BPF_CORE_READ((struct tcp_sock *)ctx->skaddr, rcv_nxt), true);
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
	struct flow_hists *fh; /* the flow's histograms, looked up once per copy */
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
	layer_sample(RX_TCP, c->now - s->t_tcp, c->fh);
	if (c->k && c->k->events) {
		__u32 hash = seg_hash(&c->flow, s->seq);
		if (sampled(c->k, hash))
			emit(s, &c->flow, c->now, hash);
	}
	rs->head = head + 1;
	return 0;
}

/* flow: the socket's incoming flow; upto: copied_seq + len (every segment ending at or before it is delivered) */
static __always_inline int on_copy(struct copy_ctx *c)
{
	c->rs = bpf_map_lookup_elem(&rx_socks, &c->flow);
	if (!c->rs) {
		layer_stat(RX_STAT_NO_RING);
		return 0;
	}
	c->k = layer_knobs();
	/* the flow's histogram once per copy (not per segment), if at least the oldest segment is delivered */
	__u32 head = c->rs->head;
	if (head == c->rs->tail || (__s32)(c->rs->segs[head & (RX_RING - 1)].end_seq - c->upto) > 0)
		return 0;
	c->fh = layer_flow_hists(&c->flow, c->k);
	/* every segment whose last byte is now copied has left the TCP layer */
	bpf_loop(RX_RING, consume_one, c, 0);
	return 0;
}

/* fentry and tp_btf: a BTF-typed skb, so direct loads of the socket's fields (no bpf_probe_read_kernel) */
static __always_inline int on_copy_btf(const struct sk_buff *skb, int len)
{
	struct sock *sk = skb->sk;
	if (len <= 0 || !sk)
		return 0;
	if (sk->sk_protocol != LAYER_IPPROTO_TCP)
		return 0;
	/* a read-only view of the socket as tcp_sock (bpf_skc_to_tcp_sock refuses an RCU pointer) */
	struct tcp_sock *tp = bpf_rdonly_cast(sk, bpf_core_type_id_kernel(struct tcp_sock));
	struct copy_ctx c = {};
	if (!flow_of_sock_btf(sk, false, &c.flow))
		return 0;
	c.now = bpf_ktime_get_ns();
	c.upto = tp->copied_seq + len;
	return on_copy(&c);
}

SEC("fentry/skb_copy_datagram_iter")
int BPF_PROG(rx_copy_fentry, const struct sk_buff *skb, int offset, struct iov_iter *to, int len)
{
	return on_copy_btf(skb, len);
}

SEC("tp_btf/skb_copy_datagram_iovec")
int BPF_PROG(rx_copy_tp_btf, const struct sk_buff *skb, int len)
{
	return on_copy_btf(skb, len);
}

SEC("tracepoint/skb/skb_copy_datagram_iovec")
int rx_copy_tracepoint(struct trace_event_raw_skb_copy_datagram_iovec *ctx)
{
	if (ctx->len <= 0)
		return 0;
	struct sock *sk = BPF_CORE_READ((struct sk_buff *)ctx->skbaddr, sk);
	if (!sk || BPF_CORE_READ(sk, sk_protocol) != LAYER_IPPROTO_TCP)
		return 0;
	struct copy_ctx c = {};
	if (!flow_of_sock(sk, false, &c.flow))
		return 0;
	c.now = bpf_ktime_get_ns();
	c.upto = BPF_CORE_READ((struct tcp_sock *)sk, copied_seq) + ctx->len;
	return on_copy(&c);
}
