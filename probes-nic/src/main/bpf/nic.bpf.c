// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * probes-nic: a record per sampled TCP segment where it leaves a NIC (TX) and where it reaches one
 * (RX), with an identity both hosts see alike, for NIC-to-NIC one-way latency across hosts.
 * Hooks in order of preference (the Java side picks the first that loads):
 *   nic-tx:        fentry/dev_hard_start_xmit, tp_btf/net_dev_start_xmit, tracepoint/net/net_dev_start_xmit
 *   nic-rx:        fentry/eth_type_trans, tp_btf/netif_rx_entry, tracepoint/net/netif_rx_entry
 *   nic-rx-napi:   tp_btf/napi_gro_receive_entry, tracepoint/net/napi_gro_receive_entry
 *   nic-rx-direct: tp_btf/netif_receive_skb_entry, tracepoint/net/netif_receive_skb_entry
 * eth_type_trans is called by every Ethernet driver before it hands a frame to the stack, so when
 * it serves nic-rx the napi/direct programs stay silent (entry 0 of rx_control stays 0); otherwise
 * user space sets it and they cover drivers that do not use netif_rx (veth and loopback do use it).
 *
 * Sampling: a segment is kept when hash(saddr, daddr, sport, dport, ack, seq) % sample_one_in == 0.
 * None of these change in flight (without NAT), so sender and receiver keep the same segments.
 * GSO/GRO: an skb carrying several segments (TSO/GSO on TX, a veth forwarding a GSO skb, LRO on RX)
 * is examined segment by segment as GSO would cut it (seq + i*gso_size, ip id + i), so a sender's
 * 64 KB TSO skb and the receiver's segments (split by a qdisc such as TBF, or by a real NIC) match.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include "microbpf.h"
#include "nic.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

MICROBPF_EXPORT_STRUCT(nic_event);

#define ETH_P_IP 0x0800
#define ETH_P_IPV6 0x86DD
#define ETH_P_8021Q 0x8100
#define ETH_P_8021AD 0x88A8
#define IPPROTO_TCP 6
#define IFF_LOOPBACK 0x8

/* Set from the configuration before load. */
const volatile __u64 sample_one_in = 1;         /* keep 1 segment in N (by hash); 1 = all */
const volatile __u32 filter_netns = 0;           /* netns inode of the watched devices; 0 = any */
const volatile __u32 filter_ifindex_count = 0;   /* 0 = every device of that netns */
const volatile __u32 filter_ifindexes[16] = {};
const volatile __u32 exclude_port_count = 0;    /* segments from or to these ports are ignored */
const volatile __u16 exclude_ports[8] = {};
const volatile __u8 include_loopback = 0;
const volatile __u8 include_pure_acks = 1;       /* segments without payload */

/* Entry 0: whether the napi/direct RX programs record (user space sets it after attach). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} rx_control SEC(".maps");

static __always_inline bool rx_secondary_enabled(void)
{
	__u32 zero = 0;
	__u32 *on = bpf_map_lookup_elem(&rx_control, &zero);
	return on && *on;
}

/* Counters (read by user space from .bss). */
__u64 segments_seen = 0;      /* TCP segments on watched devices (before sampling) */
__u64 segments_sampled = 0;   /* records reserved */
__u64 headers_nonlinear = 0;  /* skbs whose headers were not in the linear area: skipped */
__u64 gso_truncated = 0;      /* GSO skbs with more than NIC_MAX_SEGS segments */

static __always_inline __u64 mix(__u64 h, __u32 w)
{
	h ^= w;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	return h;
}

static __always_inline __u64 fmix64(__u64 k)
{
	k ^= k >> 33;
	k *= 0xff51afd7ed558ccdULL;
	k ^= k >> 33;
	k *= 0xc4ceb9fe1a85ec53ULL;
	k ^= k >> 33;
	return k;
}

static __always_inline bool watched(struct net_device *dev)
{
	if (!dev)
		return false;
	if (!include_loopback && (BPF_CORE_READ(dev, flags) & IFF_LOOPBACK))
		return false;
	if (filter_netns && BPF_CORE_READ(dev, nd_net.net, ns.inum) != filter_netns)
		return false;
	if (filter_ifindex_count) {
		__u32 ifindex = BPF_CORE_READ(dev, ifindex);
		bool hit = false;
		for (int i = 0; i < 16; i++) {
			if (i < filter_ifindex_count && filter_ifindexes[i] == ifindex)
				hit = true;
		}
		return hit;
	}
	return true;
}

/*
 * Parses the frame that starts at mac (a kernel address inside skb's linear area) and emits one
 * record per sampled segment. data is skb->data (skb->len counts from there).
 */
static __always_inline int handle(struct sk_buff *skb, struct net_device *dev, unsigned char *mac, __u8 direction,
				  __u8 hook)
{
	if (!watched(dev))
		return 0;
	unsigned char *head = BPF_CORE_READ(skb, head);
	unsigned char *data = BPF_CORE_READ(skb, data);
	__u32 skb_len = BPF_CORE_READ(skb, len);
	__u32 tail = BPF_CORE_READ(skb, tail);
	unsigned char *linear_end = head + tail;

	__u8 evflags = 0;
	__be16 proto;
	if (bpf_probe_read_kernel(&proto, sizeof(proto), mac + 12))
		return 0;
	__u32 l2 = 14;
	for (int i = 0; i < 2; i++) {
		if (proto == bpf_htons(ETH_P_8021Q) || proto == bpf_htons(ETH_P_8021AD)) {
			if (bpf_probe_read_kernel(&proto, sizeof(proto), mac + l2 + 2))
				return 0;
			l2 += 4;
			evflags |= NIC_FLAG_VLAN;
		}
	}
	unsigned char *l3 = mac + l2;
	__u8 family;
	__u32 l3_hdr, l3_total; /* header length; bytes from the IP header to the end of the skb */
	__u8 saddr[16] = {}, daddr[16] = {};
	__u16 ip_id = 0;
	if (proto == bpf_htons(ETH_P_IP)) {
		struct iphdr ip;
		if (l3 + sizeof(ip) > linear_end) {
			__sync_fetch_and_add(&headers_nonlinear, 1);
			return 0;
		}
		if (bpf_probe_read_kernel(&ip, sizeof(ip), l3))
			return 0;
		if (ip.protocol != IPPROTO_TCP || (ip.frag_off & bpf_htons(0x3fff)))
			return 0; /* not TCP, or a fragment */
		family = 4;
		l3_hdr = ip.ihl * 4;
		l3_total = bpf_ntohs(ip.tot_len);
		ip_id = bpf_ntohs(ip.id);
		__builtin_memcpy(saddr, &ip.saddr, 4);
		__builtin_memcpy(daddr, &ip.daddr, 4);
	} else if (proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr ip6;
		if (l3 + sizeof(ip6) > linear_end) {
			__sync_fetch_and_add(&headers_nonlinear, 1);
			return 0;
		}
		if (bpf_probe_read_kernel(&ip6, sizeof(ip6), l3))
			return 0;
		if (ip6.nexthdr != IPPROTO_TCP)
			return 0; /* extension headers are not followed */
		family = 6;
		l3_hdr = 40;
		l3_total = bpf_ntohs(ip6.payload_len) + 40;
		__builtin_memcpy(saddr, &ip6.saddr, 16);
		__builtin_memcpy(daddr, &ip6.daddr, 16);
	} else {
		return 0;
	}
	struct tcphdr th;
	unsigned char *l4 = l3 + l3_hdr;
	if (l4 + sizeof(th) > linear_end) {
		__sync_fetch_and_add(&headers_nonlinear, 1);
		return 0;
	}
	if (bpf_probe_read_kernel(&th, sizeof(th), l4))
		return 0;
	__u32 l4_hdr = th.doff * 4;

	struct skb_shared_info *shinfo = (struct skb_shared_info *)(head + BPF_CORE_READ(skb, end));
	__u16 gso_size = BPF_CORE_READ(shinfo, gso_size);
	/* For a GSO skb (or BIG TCP, tot_len 0) the IP length field is not the skb's: use skb->len. */
	__u32 from_l3 = skb_len - (__u32)(l3 - data);
	if (gso_size || l3_total == 0 || l3_total > from_l3)
		l3_total = from_l3;
	if (l3_total < l3_hdr + l4_hdr)
		return 0;
	__u32 payload = l3_total - l3_hdr - l4_hdr;

	__u32 segs = 1;
	if (gso_size && payload > gso_size) {
		segs = (payload + gso_size - 1) / gso_size;
		evflags |= NIC_FLAG_GSO;
	}
	if (segs > NIC_MAX_SEGS) {
		__sync_fetch_and_add(&gso_truncated, 1);
		evflags |= NIC_FLAG_TRUNCATED;
	}
	if (payload == 0 && !include_pure_acks)
		return 0;

	__u32 seq0 = bpf_ntohl(th.seq);
	__u32 ack = bpf_ntohl(th.ack_seq);
	__u16 sport = bpf_ntohs(th.source);
	__u16 dport = bpf_ntohs(th.dest);
	for (int i = 0; i < 8; i++) {
		if (i < exclude_port_count && (exclude_ports[i] == sport || exclude_ports[i] == dport))
			return 0;
	}
	__sync_fetch_and_add(&segments_seen, segs);
	__u8 tcp_flags = ((__u8 *)&th)[13];

	/* hash of the fields every segment of this skb shares; seq is mixed in per segment */
	__u64 h = 0x9E3779B97F4A7C15ULL;
	__u32 words = family == 4 ? 1 : 4;
	for (int i = 0; i < 4; i++) {
		if (i < words)
			h = mix(h, ((__u32 *)saddr)[i]);
	}
	for (int i = 0; i < 4; i++) {
		if (i < words)
			h = mix(h, ((__u32 *)daddr)[i]);
	}
	h = mix(h, ((__u32)sport << 16) | dport);
	h = mix(h, ack);

	__u32 ifindex = BPF_CORE_READ(dev, ifindex);
	__u32 netns = BPF_CORE_READ(dev, nd_net.net, ns.inum);
	__u64 now = bpf_ktime_get_ns();

	for (__u32 i = 0; i < NIC_MAX_SEGS; i++) {
		if (i >= segs)
			break;
		__u32 seq = seq0 + i * gso_size;
		if (sample_one_in > 1 && fmix64(h ^ seq) % sample_one_in != 0)
			continue;
		struct nic_event *e = microbpf_reserve(sizeof(*e));
		if (!e)
			return 0;
		__sync_fetch_and_add(&segments_sampled, 1);
		e->ts_ns = now;
		__builtin_memcpy(e->saddr, saddr, 16);
		__builtin_memcpy(e->daddr, daddr, 16);
		e->seq = seq;
		e->ack = ack;
		__u32 left = payload - i * gso_size;
		e->payload_bytes = (segs > 1 && left > gso_size) ? gso_size : left;
		e->ifindex = ifindex;
		e->netns_ino = netns;
		e->sport = sport;
		e->dport = dport;
		e->ip_id = family == 4 ? (__u16)(ip_id + i) : 0;
		e->gso_segs = segs;
		e->seg_index = i;
		e->family = family;
		e->direction = direction;
		e->hook = hook;
		e->tcp_flags = tcp_flags;
		e->flags = evflags;
		e->pad = 0;
		bpf_ringbuf_submit(e, 0);
	}
	return 0;
}

/* TX: skb->data is the start of the frame when the driver gets it. */
SEC("fentry/dev_hard_start_xmit")
int BPF_PROG(nic_tx_fentry, struct sk_buff *first, struct net_device *dev)
{
	return handle(first, dev, BPF_CORE_READ(first, data), NIC_DIR_TX, NIC_HOOK_TX_FENTRY);
}

SEC("tp_btf/net_dev_start_xmit")
int BPF_PROG(nic_tx_tp_btf, struct sk_buff *skb, struct net_device *dev)
{
	return handle(skb, dev, BPF_CORE_READ(skb, data), NIC_DIR_TX, NIC_HOOK_TX_TP_BTF);
}

SEC("tracepoint/net/net_dev_start_xmit")
int nic_tx_tracepoint(struct trace_event_raw_net_dev_start_xmit *ctx)
{
	struct sk_buff *skb = (struct sk_buff *)ctx->skbaddr;
	return handle(skb, BPF_CORE_READ(skb, dev), BPF_CORE_READ(skb, data), NIC_DIR_TX, NIC_HOOK_TX_TRACEPOINT);
}

/* RX at eth_type_trans entry: skb->data is still the start of the frame; skb->dev not yet set. */
SEC("fentry/eth_type_trans")
int BPF_PROG(nic_rx_fentry, struct sk_buff *skb, struct net_device *dev)
{
	return handle(skb, dev, BPF_CORE_READ(skb, data), NIC_DIR_RX, NIC_HOOK_RX_FENTRY);
}

/* RX after eth_type_trans: the frame starts at head + mac_header. */
static __always_inline int rx_after_eth(struct sk_buff *skb, __u8 hook)
{
	__u16 mac_off = BPF_CORE_READ(skb, mac_header);
	if (mac_off == (__u16)~0U)
		return 0;
	return handle(skb, BPF_CORE_READ(skb, dev), BPF_CORE_READ(skb, head) + mac_off, NIC_DIR_RX, hook);
}

SEC("tp_btf/netif_rx_entry")
int BPF_PROG(nic_rx_tp_btf, struct sk_buff *skb)
{
	return rx_after_eth(skb, NIC_HOOK_RX_TP_BTF);
}

SEC("tracepoint/net/netif_rx_entry")
int nic_rx_tracepoint(struct trace_event_raw_net_dev_rx_verbose_template *ctx)
{
	return rx_after_eth((struct sk_buff *)ctx->skbaddr, NIC_HOOK_RX_TRACEPOINT);
}

SEC("tp_btf/napi_gro_receive_entry")
int BPF_PROG(nic_napi_tp_btf, struct sk_buff *skb)
{
	return rx_secondary_enabled() ? rx_after_eth(skb, NIC_HOOK_NAPI_TP_BTF) : 0;
}

SEC("tracepoint/net/napi_gro_receive_entry")
int nic_napi_tracepoint(struct trace_event_raw_net_dev_rx_verbose_template *ctx)
{
	return rx_secondary_enabled() ? rx_after_eth((struct sk_buff *)ctx->skbaddr, NIC_HOOK_NAPI_TRACEPOINT) : 0;
}

SEC("tp_btf/netif_receive_skb_entry")
int BPF_PROG(nic_skb_tp_btf, struct sk_buff *skb)
{
	return rx_secondary_enabled() ? rx_after_eth(skb, NIC_HOOK_SKB_TP_BTF) : 0;
}

SEC("tracepoint/net/netif_receive_skb_entry")
int nic_skb_tracepoint(struct trace_event_raw_net_dev_rx_verbose_template *ctx)
{
	return rx_secondary_enabled() ? rx_after_eth((struct sk_buff *)ctx->skbaddr, NIC_HOOK_SKB_TRACEPOINT) : 0;
}
