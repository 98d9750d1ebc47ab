/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Shared by the per-layer latency probes (probes-rx/rx.bpf.c, probes-tx/tx.bpf.c): packet keys,
 * header parsing, in-kernel histograms, knobs and counters. Include after vmlinux.h and microbpf.h.
 *
 * Java mirrors (probes-rx, package io.microbpf.probe.layer): FlowKeyLayout (struct flow_key),
 * LayerHistLayout (struct layer_hist, bucket scheme), KnobsLayout (struct layer_knobs),
 * SegEventLayout (struct seg_event); each checked against the compiled BTF by a layout test.
 */
#ifndef MICROBPF_LAYER_H
#define MICROBPF_LAYER_H

#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

#define LAYER_MAX 4          /* layers per direction: RX uses 0..2, TX 0..3 */
#define LAYER_BUCKETS 160    /* see layer_bucket() */
#define LAYER_STATS 16
#define LAYER_STAT_NEGATIVE 15 /* samples whose end came before their start (counted, recorded as 0) */

#define ETH_P_IP_BE 0x0008   /* htons(0x0800) */
#define ETH_P_IPV6_BE 0xDD86 /* htons(0x86DD) */
#define ETH_P_8021Q_BE 0x0081
#define ETH_P_8021AD_BE 0xA888
#define LAYER_IPPROTO_TCP 6

/* A TCP flow as its packets carry it on the wire: source = sender of the packet. */
struct flow_key {
	__u8 saddr[16];  /* IPv4 in the first 4 bytes (rest 0), or IPv6 */
	__u8 daddr[16];
	__u16 sport;     /* host order */
	__u16 dport;
	__u16 family;    /* 2 (AF_INET) or 10 (AF_INET6); v4-mapped IPv6 sockets count as AF_INET */
	__u16 pad;
};

/* One TCP segment of one flow: the key of in-flight entries when a hook has no skb pointer. */
struct seg_key {
	struct flow_key flow;
	__u32 seq;
	__u32 ack_seq;
};

/*
 * A latency histogram: values 0..7 ns exact, then four equal sub-buckets per power of two
 * (log2 buckets split in 4: a bucket is at most 25 % of its lower bound wide).
 */
struct layer_hist {
	__u64 count;
	__u64 sum_ns;
	__u64 buckets[LAYER_BUCKETS];
};

/* A flow's histograms, one per layer of the direction (unused layers stay empty): one map value, so
 * the hook that records a packet's layers looks the flow up once. */
struct flow_hists {
	struct layer_hist layer[LAYER_MAX];
};

/* Live settings, written by user space into the 1-entry array "knobs" (no reload needed); all zero = defaults. */
struct layer_knobs {
	__u32 events;       /* 1: one ring record per sampled packet (events mode); 0: histograms only */
	__u32 sample_every; /* events mode: 1-in-N packets by a hash of the segment (0 or 1: all) */
	__u32 flows_off;    /* 1: no histogram per flow and layer (0, the default: keep them) */
	__u32 pad;
};

/*
 * Ring record of one packet (events mode): the instant it crossed each boundary (0 = not seen).
 * RX: ts[0] MAC start, ts[1] IP start, ts[2] TCP start, ts[3] delivered to the application.
 * TX: ts[0] handed to TCP by the application, ts[1] IP start, ts[2] dev_queue_xmit,
 *     ts[3] left the qdisc (0 when it bypassed it), ts[4] dev_hard_start_xmit.
 */
struct seg_event {
	__u64 ts[5];
	struct flow_key flow;
	__u32 seq;
	__u32 len;         /* payload bytes */
	__u32 hash;        /* segment hash (the sampling key) */
	__u8 dir;          /* 0 RX, 1 TX */
	__u8 pad[3];
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct layer_knobs);
} knobs SEC(".maps");

/* Per-layer histograms, per CPU (no atomics on the packet path); user space sums the CPUs. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, LAYER_MAX);
	__type(key, __u32);
	__type(value, struct layer_hist);
} layer_hist SEC(".maps");

/* Per-flow histograms of every layer; bounded (size set from Java: max.flows), least recently used evicted. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_PERCPU_HASH);
	__uint(max_entries, 1024);
	__type(key, struct flow_key);
	__type(value, struct flow_hists);
} flow_hist SEC(".maps");

/* Counters (STAT_* of each probe), per CPU. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, LAYER_STATS);
	__type(key, __u32);
	__type(value, __u64);
} layer_stats SEC(".maps");

MICROBPF_EXPORT_STRUCT(flow_key);
MICROBPF_EXPORT_STRUCT(layer_hist);
MICROBPF_EXPORT_STRUCT(flow_hists);
MICROBPF_EXPORT_STRUCT(layer_knobs);
MICROBPF_EXPORT_STRUCT(seg_event);

static __always_inline void layer_stat(__u32 idx)
{
	__u64 *v = bpf_map_lookup_elem(&layer_stats, &idx);
	if (v)
		(*v)++;
}

static __always_inline struct layer_knobs *layer_knobs(void)
{
	__u32 zero = 0;
	return bpf_map_lookup_elem(&knobs, &zero);
}

static __always_inline __u32 log2_u64(__u64 v)
{
	__u32 r = 0;
	if (v >> 32) { v >>= 32; r += 32; }
	if (v >> 16) { v >>= 16; r += 16; }
	if (v >> 8) { v >>= 8; r += 8; }
	if (v >> 4) { v >>= 4; r += 4; }
	if (v >> 2) { v >>= 2; r += 2; }
	if (v >> 1) { r += 1; }
	return r;
}

/* Bucket of a value in ns (mirror: LayerHistLayout.bucketLowerNs / bucketWidthNs). */
static __always_inline __u32 layer_bucket(__u64 v)
{
	if (v < 8)
		return v;
	__u32 o = log2_u64(v);
	__u32 idx = 4 * (o - 1) + ((v >> (o - 2)) & 3);
	return idx < LAYER_BUCKETS ? idx : LAYER_BUCKETS - 1;
}

static __always_inline void hist_add(struct layer_hist *h, __u32 b, __u64 ns, bool atomic)
{
	if (b >= LAYER_BUCKETS)
		return;
	if (atomic) {
		__sync_fetch_and_add(&h->count, 1);
		__sync_fetch_and_add(&h->sum_ns, ns);
		__sync_fetch_and_add(&h->buckets[b], 1);
	} else {
		h->count++;
		h->sum_ns += ns;
		h->buckets[b]++;
	}
}

/* The flow's histograms (created on first use), or NULL when per-flow histograms are off. Look a
 * flow up once per hook and record all the layers that hook closes with layer_sample(). */
static __always_inline struct flow_hists *layer_flow_hists(const struct flow_key *flow, struct layer_knobs *k)
{
	if (!k || k->flows_off || !flow)
		return NULL;
	struct flow_hists *fh = bpf_map_lookup_elem(&flow_hist, flow);
	if (!fh) {
		static const struct flow_hists zero = {};
		bpf_map_update_elem(&flow_hist, flow, &zero, BPF_NOEXIST);
		fh = bpf_map_lookup_elem(&flow_hist, flow);
	}
	return fh;
}

/* Records one latency sample of a layer, and in the flow's histograms fh when not NULL. */
static __always_inline void layer_sample(__u32 layer, __s64 ns, struct flow_hists *fh)
{
	if (layer >= LAYER_MAX)
		return;
	/* the flow's histogram first, the index masked: the layer is also the key of the lookup below,
	 * which makes the compiler reload it from the stack, where the verifier loses its bounds */
	struct layer_hist *f = fh ? &fh->layer[layer & (LAYER_MAX - 1)] : NULL;
	if (ns < 0) { /* a mismatched key, or clock skew between CPUs: count it, never hide it */
		layer_stat(LAYER_STAT_NEGATIVE);
		ns = 0;
	}
	__u32 b = layer_bucket(ns);
	struct layer_hist *h = bpf_map_lookup_elem(&layer_hist, &layer);
	if (h)
		hist_add(h, b, ns, false);
	if (f)
		hist_add(f, b, ns, false); /* per-CPU value: no atomics needed */
}

/* FNV-1a + murmur3 finaliser over the segment identity as both ends see it in the header: addresses, ports, seq. */
static __always_inline __u32 seg_hash(const struct flow_key *f, __u32 seq)
{
	__u32 h = 2166136261u;
	const __u32 *w = (const __u32 *)f;
	for (int i = 0; i < 9; i++) { /* saddr, daddr, sport|dport */
		h ^= w[i];
		h *= 16777619u;
	}
	h ^= seq;
	h *= 16777619u;
	/* murmur3 finaliser: FNV's low bits depend only on the inputs' low bits; mix the high ones in */
	h ^= h >> 16;
	h *= 0x85ebca6bu;
	h ^= h >> 13;
	h *= 0xc2b2ae35u;
	h ^= h >> 16;
	return h;
}

static __always_inline bool sampled(struct layer_knobs *k, __u32 hash)
{
	if (!k || !k->events)
		return false;
	__u32 n = k->sample_every;
	return n <= 1 || hash % n == 0;
}

/* What the parsers extract from a TCP packet. */
struct pkt {
	struct flow_key flow;
	__u32 seq;
	__u32 ack_seq;
	__u32 payload;
	__u8 flags;
};

static __always_inline void key_of(struct seg_key *k, const struct pkt *p)
{
	__builtin_memcpy(&k->flow, &p->flow, sizeof(k->flow));
	k->seq = p->seq;
	k->ack_seq = p->ack_seq;
}

/*
 * Parses IPv4 (options included: ihl) or IPv6 (hop-by-hop, routing and destination option
 * headers skipped) and the TCP header from kernel memory at l3. proto_be: skb->protocol (VLAN tags,
 * 802.1Q / 802.1AD, up to two, are skipped), or 0 to go by the IP version nibble. l3_len: bytes of
 * the packet from l3 on (to compute the payload). Returns false for anything that is not TCP.
 * One bpf_probe_read_kernel of 64 bytes covers IPv4 without options + TCP and IPv6 without
 * extension headers + TCP (the TCP header's first 20 bytes); other layouts read the rest separately.
 * Reading 64 bytes past a short packet's end stays inside the skb's head buffer (skb_shared_info follows).
 */
struct l3_bytes {
	union {
		struct iphdr ip;
		struct ipv6hdr ip6;
		__u8 b[64];
	};
};

static __always_inline bool parse_l3(const unsigned char *l3, __u16 proto_be, __u32 l3_len, struct pkt *p)
{
	for (int i = 0; i < 2; i++) {
		if (proto_be != ETH_P_8021Q_BE && proto_be != ETH_P_8021AD_BE)
			break;
		/* data points at the tag: TCI (2 bytes), then the inner ethertype */
		if (bpf_probe_read_kernel(&proto_be, 2, l3 + 2))
			return false;
		l3 += 4;
		l3_len -= 4;
	}
	struct l3_bytes h;
	if (bpf_probe_read_kernel(&h, sizeof(h), l3))
		return false;
	__u8 vb = h.b[0];
	if (proto_be == 0)
		proto_be = (vb >> 4) == 4 ? ETH_P_IP_BE : (vb >> 4) == 6 ? ETH_P_IPV6_BE : 0xffff;
	__u32 l3hdr;
	if (proto_be == ETH_P_IP_BE) {
		if (h.ip.protocol != LAYER_IPPROTO_TCP)
			return false;
		l3hdr = h.ip.ihl * 4;
		if (l3hdr < 20)
			return false;
		__builtin_memset(&p->flow, 0, sizeof(p->flow));
		__builtin_memcpy(p->flow.saddr, &h.ip.saddr, 4);
		__builtin_memcpy(p->flow.daddr, &h.ip.daddr, 4);
		p->flow.family = MICROBPF_AF_INET;
	} else if (proto_be == ETH_P_IPV6_BE) {
		__u8 next = h.ip6.nexthdr;
		l3hdr = sizeof(struct ipv6hdr);
		for (int i = 0; i < 4; i++) {
			if (next != 0 && next != 43 && next != 60)
				break;
			__u8 ext[2];
			if (bpf_probe_read_kernel(ext, 2, l3 + l3hdr))
				return false;
			next = ext[0];
			l3hdr += (ext[1] + 1) * 8;
		}
		if (next != LAYER_IPPROTO_TCP)
			return false;
		__builtin_memset(&p->flow, 0, sizeof(p->flow));
		__builtin_memcpy(p->flow.saddr, &h.ip6.saddr, 16);
		__builtin_memcpy(p->flow.daddr, &h.ip6.daddr, 16);
		p->flow.family = MICROBPF_AF_INET6;
	} else {
		return false;
	}
	struct tcphdr th;
	if (l3hdr == 20)
		__builtin_memcpy(&th, &h.b[20], sizeof(th));
	else if (l3hdr == 40)
		__builtin_memcpy(&th, &h.b[40], sizeof(th));
	else if (bpf_probe_read_kernel(&th, sizeof(th), l3 + (l3hdr & 0x3ff)))
		return false;
	p->flow.sport = __builtin_bswap16(th.source);
	p->flow.dport = __builtin_bswap16(th.dest);
	p->seq = __builtin_bswap32(th.seq);
	p->ack_seq = __builtin_bswap32(th.ack_seq);
	__u32 hdrs = l3hdr + th.doff * 4;
	p->payload = l3_len > hdrs ? l3_len - hdrs : 0;
	p->flags = ((__u8 *)&th)[13];
	return true;
}

/* A kernel skb whose network header is set (TX path, TCP receive path): by the version nibble. */
static __always_inline bool parse_nh_fields(unsigned char *head, unsigned char *data, __u16 nh, __u32 len, struct pkt *p)
{
	if (nh == (__u16)~0U || !head)
		return false;
	unsigned char *l3 = head + nh;
	/* skb->len counts from data; data may sit before (MAC header) or after l3 (pulled) */
	__s64 before = l3 - data;
	return parse_l3(l3, 0, (__u32)((__s64)len - before), p);
}

/* From a raw skb pointer (classic tracepoints): every field through bpf_probe_read_kernel. */
static __always_inline bool parse_skb_nh(struct sk_buff *skb, struct pkt *p)
{
	return parse_nh_fields(BPF_CORE_READ(skb, head), BPF_CORE_READ(skb, data), BPF_CORE_READ(skb, network_header),
			       BPF_CORE_READ(skb, len), p);
}

/* From a BTF-typed skb (fentry, tp_btf): direct loads. */
#define PARSE_SKB_NH_BTF(skb, p) parse_nh_fields((skb)->head, (skb)->data, (skb)->network_header, (skb)->len, (p))

/* A kernel skb as __netif_receive_skb_core sees it: data at L3 (or at a VLAN tag), protocol set. */
static __always_inline bool parse_skb_rx(struct sk_buff *skb, struct pkt *p)
{
	return parse_l3(BPF_CORE_READ(skb, data), BPF_CORE_READ(skb, protocol), BPF_CORE_READ(skb, len), p);
}

#define PARSE_SKB_RX_BTF(skb, p) parse_l3((skb)->data, (skb)->protocol, (skb)->len, (p))

/*
 * A cgroup_skb program's packet through direct packet access (no helper call): data is at the IP
 * header, and the TCP stack has pulled IP and TCP headers into the linear part before these hooks
 * run. Returns 1 for TCP (p filled), 0 for anything else, -1 when the headers are not all in the
 * linear part (then parse_cgroup_skb, below, reads them with bpf_skb_load_bytes).
 */
static __always_inline int parse_cgroup_skb_direct(struct __sk_buff *skb, struct pkt *p)
{
	void *data = (void *)(long)skb->data;
	void *end = (void *)(long)skb->data_end;
	__u32 l3hdr;
	if (data + sizeof(struct ipv6hdr) + sizeof(struct tcphdr) > end) {
		/* short linear part: fine for IPv4 + TCP without options, else the slow path */
		if (data + sizeof(struct iphdr) + sizeof(struct tcphdr) > end)
			return -1;
	}
	__u8 v = *(__u8 *)data >> 4;
	if (v == 4) {
		struct iphdr *ip = data;
		if (ip->protocol != LAYER_IPPROTO_TCP)
			return 0;
		l3hdr = ip->ihl * 4;
		if (l3hdr < 20)
			return 0;
		__builtin_memset(&p->flow, 0, sizeof(p->flow));
		__builtin_memcpy(p->flow.saddr, &ip->saddr, 4);
		__builtin_memcpy(p->flow.daddr, &ip->daddr, 4);
		p->flow.family = MICROBPF_AF_INET;
	} else if (v == 6) {
		struct ipv6hdr *ip6 = data;
		if ((void *)(ip6 + 1) > end)
			return -1;
		__u8 next = ip6->nexthdr;
		l3hdr = sizeof(*ip6);
		for (int i = 0; i < 4; i++) {
			if (next != 0 && next != 43 && next != 60)
				break;
			__u8 *ext = data + (l3hdr & 0x3ff);
			if ((void *)(ext + 2) > end)
				return -1;
			next = ext[0];
			l3hdr += (ext[1] + 1) * 8;
		}
		if (next != LAYER_IPPROTO_TCP)
			return 0;
		__builtin_memset(&p->flow, 0, sizeof(p->flow));
		__builtin_memcpy(p->flow.saddr, &ip6->saddr, 16);
		__builtin_memcpy(p->flow.daddr, &ip6->daddr, 16);
		p->flow.family = MICROBPF_AF_INET6;
	} else {
		return 0;
	}
	struct tcphdr *th = data + (l3hdr & 0x3ff);
	if ((void *)(th + 1) > end)
		return -1;
	p->flow.sport = __builtin_bswap16(th->source);
	p->flow.dport = __builtin_bswap16(th->dest);
	p->seq = __builtin_bswap32(th->seq);
	p->ack_seq = __builtin_bswap32(th->ack_seq);
	__u32 hdrs = l3hdr + th->doff * 4;
	p->payload = skb->len > hdrs ? skb->len - hdrs : 0;
	p->flags = ((__u8 *)th)[13];
	return 1;
}

/* A cgroup_skb program's packet: data at the IP header, read with bpf_skb_load_bytes. */
static __always_inline bool parse_cgroup_skb(struct __sk_buff *skb, struct pkt *p)
{
	__u32 l3hdr;
	__u8 vb;
	if (bpf_skb_load_bytes(skb, 0, &vb, 1))
		return false;
	__builtin_memset(&p->flow, 0, sizeof(p->flow));
	if ((vb >> 4) == 4) {
		struct iphdr ip;
		if (bpf_skb_load_bytes(skb, 0, &ip, sizeof(ip)) || ip.protocol != LAYER_IPPROTO_TCP)
			return false;
		l3hdr = ip.ihl * 4;
		if (l3hdr < 20)
			return false;
		__builtin_memcpy(p->flow.saddr, &ip.saddr, 4);
		__builtin_memcpy(p->flow.daddr, &ip.daddr, 4);
		p->flow.family = MICROBPF_AF_INET;
	} else if ((vb >> 4) == 6) {
		struct ipv6hdr ip6;
		if (bpf_skb_load_bytes(skb, 0, &ip6, sizeof(ip6)))
			return false;
		__u8 next = ip6.nexthdr;
		l3hdr = sizeof(ip6);
		for (int i = 0; i < 4; i++) {
			if (next != 0 && next != 43 && next != 60)
				break;
			__u8 ext[2];
			if (bpf_skb_load_bytes(skb, l3hdr & 0x3ff, ext, 2))
				return false;
			next = ext[0];
			l3hdr += (ext[1] + 1) * 8;
		}
		if (next != LAYER_IPPROTO_TCP)
			return false;
		__builtin_memcpy(p->flow.saddr, &ip6.saddr, 16);
		__builtin_memcpy(p->flow.daddr, &ip6.daddr, 16);
		p->flow.family = MICROBPF_AF_INET6;
	} else {
		return false;
	}
	struct tcphdr th;
	if (bpf_skb_load_bytes(skb, l3hdr & 0x3ff, &th, sizeof(th)))
		return false;
	p->flow.sport = __builtin_bswap16(th.source);
	p->flow.dport = __builtin_bswap16(th.dest);
	p->seq = __builtin_bswap32(th.seq);
	p->ack_seq = __builtin_bswap32(th.ack_seq);
	__u32 hdrs = l3hdr + th.doff * 4;
	p->payload = skb->len > hdrs ? skb->len - hdrs : 0;
	p->flags = ((__u8 *)&th)[13];
	return true;
}

/* Fills f from a socket's local (l) and remote (r) ends: source = local when outgoing. */
static __always_inline void flow_orient(struct flow_key *f, __u16 family, const void *l, const void *r, __u16 lport,
					__u16 rport, bool outgoing)
{
	f->family = family;
	if (outgoing) {
		__builtin_memcpy(f->saddr, l, 16);
		__builtin_memcpy(f->daddr, r, 16);
		f->sport = lport;
		f->dport = rport;
	} else {
		__builtin_memcpy(f->saddr, r, 16);
		__builtin_memcpy(f->daddr, l, 16);
		f->sport = rport;
		f->dport = lport;
	}
}

/*
 * The flow of a TCP socket as its packets carry it: outgoing (local -> remote) or incoming.
 * An IPv6 socket talking IPv4 (v4-mapped addresses) sends IPv4 packets, so it keys as AF_INET.
 */
static __always_inline bool flow_of_sock(struct sock *sk, bool outgoing, struct flow_key *f)
{
	__u16 family = BPF_CORE_READ(sk, __sk_common.skc_family);
	__u8 l[16] = {}, r[16] = {};
	__builtin_memset(f, 0, sizeof(*f));
	if (family == MICROBPF_AF_INET6) {
		BPF_CORE_READ_INTO(&l, sk, __sk_common.skc_v6_rcv_saddr.in6_u.u6_addr8);
		BPF_CORE_READ_INTO(&r, sk, __sk_common.skc_v6_daddr.in6_u.u6_addr8);
		__u32 *lw = (__u32 *)l;
		if (lw[0] == 0 && lw[1] == 0 && lw[2] == 0xffff0000u /* ::ffff:a.b.c.d, network order */) {
			family = MICROBPF_AF_INET;
			__builtin_memcpy(l, &l[12], 4);
			__builtin_memcpy(r, &r[12], 4);
			__builtin_memset(&l[4], 0, 12);
			__builtin_memset(&r[4], 0, 12);
		}
	} else if (family == MICROBPF_AF_INET) {
		BPF_CORE_READ_INTO((__u32 *)l, sk, __sk_common.skc_rcv_saddr);
		BPF_CORE_READ_INTO((__u32 *)r, sk, __sk_common.skc_daddr);
	} else {
		return false;
	}
	__u16 lport = BPF_CORE_READ(sk, __sk_common.skc_num);
	__u16 rport = __builtin_bswap16(BPF_CORE_READ(sk, __sk_common.skc_dport));
	flow_orient(f, family, l, r, lport, rport, outgoing);
	return true;
}


/* flow_of_sock for a BTF-typed socket (fentry, tp_btf): direct loads instead of bpf_probe_read_kernel. */
static __always_inline bool flow_of_sock_btf(struct sock *sk, bool outgoing, struct flow_key *f)
{
	__u16 family = sk->__sk_common.skc_family;
	__u32 l[4] = {}, r[4] = {};
	__builtin_memset(f, 0, sizeof(*f));
	if (family == MICROBPF_AF_INET6) {
		for (int i = 0; i < 4; i++) {
			l[i] = sk->__sk_common.skc_v6_rcv_saddr.in6_u.u6_addr32[i];
			r[i] = sk->__sk_common.skc_v6_daddr.in6_u.u6_addr32[i];
		}
		if (l[0] == 0 && l[1] == 0 && l[2] == 0xffff0000u /* ::ffff:a.b.c.d, network order */) {
			family = MICROBPF_AF_INET;
			l[0] = l[3];
			r[0] = r[3];
			l[2] = r[2] = l[3] = r[3] = 0;
		}
	} else if (family == MICROBPF_AF_INET) {
		l[0] = sk->__sk_common.skc_rcv_saddr;
		r[0] = sk->__sk_common.skc_daddr;
	} else {
		return false;
	}
	__u16 lport = sk->__sk_common.skc_num;
	__u16 rport = __builtin_bswap16(sk->__sk_common.skc_dport);
	flow_orient(f, family, l, r, lport, rport, outgoing);
	return true;
}

/*
 * Direct-mapped in-flight tables (per-CPU arrays: the lookup is inlined, no hashing of a key, no
 * lock): the slot of a key is the top bits of a multiplicative hash. A slot overwritten while it
 * still holds an unconsumed entry is an eviction, and counted as one.
 */
static __always_inline __u32 slot_of(__u64 key, __u32 bits)
{
	return (__u32)((key * 0x9E3779B97F4A7C15ull) >> (64 - bits));
}

/*
 * The low 32 bits of a pointer the verifier tracks (a tracepoint's skb, cgroup_skb's skb->data) as a
 * plain number: a privileged program may copy a pointer's low half (a 32-bit move), not hash the
 * pointer itself. The in-flight tables key skbs by their address, and packets by the address of
 * their network header, which both a tracepoint (head + offset) and a cgroup_skb program (data)
 * can compute; two packets in flight at once whose addresses agree in the low 32 bits would share
 * a slot (the later one evicts the earlier, counted).
 */
static __always_inline __u32 ptr_lo32(__u64 ptr)
{
	__u32 out;
	asm volatile("r0 = %[v]\n\tw0 = w0\n\t%[out] = r0" : [out] "=r"(out) : [v] "r"(ptr) : "r0");
	return out;
}

#endif /* MICROBPF_LAYER_H */
