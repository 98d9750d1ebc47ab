/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Events of nic.bpf.c. Java mirror: io.microbpf.probe.nic.internal.NicEventLayout
 * (checked against this struct's BTF by NicEventLayoutTest).
 */
#ifndef NIC_H
#define NIC_H

#define NIC_DIR_TX 1
#define NIC_DIR_RX 2

/* nic_event.hook: which program produced the record */
#define NIC_HOOK_TX_FENTRY 1     /* fentry/dev_hard_start_xmit */
#define NIC_HOOK_TX_TP_BTF 2     /* tp_btf/net_dev_start_xmit */
#define NIC_HOOK_TX_TRACEPOINT 3 /* tracepoint/net/net_dev_start_xmit */
#define NIC_HOOK_RX_FENTRY 4     /* fentry/eth_type_trans */
#define NIC_HOOK_RX_TP_BTF 5     /* tp_btf/netif_rx_entry */
#define NIC_HOOK_RX_TRACEPOINT 6 /* tracepoint/net/netif_rx_entry */
#define NIC_HOOK_NAPI_TP_BTF 7   /* tp_btf/napi_gro_receive_entry */
#define NIC_HOOK_NAPI_TRACEPOINT 8
#define NIC_HOOK_SKB_TP_BTF 9    /* tp_btf/netif_receive_skb_entry */
#define NIC_HOOK_SKB_TRACEPOINT 10

/* nic_event.flags */
#define NIC_FLAG_GSO 1        /* one segment of a GSO/GRO skb (segment seq/len/ip id computed as GSO would) */
#define NIC_FLAG_VLAN 2       /* an 802.1Q/802.1ad tag was in the frame */
#define NIC_FLAG_TRUNCATED 4  /* the skb had more than NIC_MAX_SEGS segments; the rest were not examined */

/* At most this many segments of one GSO skb are examined (bounded loop). */
#define NIC_MAX_SEGS 64

/*
 * One sampled TCP segment at a NIC. 80 bytes.
 * The identity (saddr, daddr, sport, dport, seq, ack, payload_bytes, ip_id) is what the sender's
 * TX record and the receiver's RX record of the same segment have in common.
 */
struct nic_event {
	__u64 ts_ns;          /* bpf_ktime_get_ns() when the hook fired (CLOCK_MONOTONIC) */
	__u8 saddr[16];       /* IPv4 in the first 4 bytes, or IPv6; as in the IP header */
	__u8 daddr[16];
	__u32 seq;            /* TCP sequence number of this segment (host order) */
	__u32 ack;            /* TCP acknowledgment number (host order) */
	__u32 payload_bytes;  /* TCP payload of this segment */
	__u32 ifindex;        /* device the segment left or arrived on */
	__u32 netns_ino;      /* network namespace of that device */
	__u16 sport;          /* host order */
	__u16 dport;
	__u16 ip_id;          /* IPv4 identification of this segment (0 for IPv6) */
	__u16 gso_segs;       /* segments in the skb (1 when not GSO) */
	__u16 seg_index;      /* which of them this record is */
	__u8 family;          /* 4 or 6 */
	__u8 direction;       /* NIC_DIR_* */
	__u8 hook;            /* NIC_HOOK_* */
	__u8 tcp_flags;       /* flags byte of the TCP header of the skb */
	__u8 flags;           /* NIC_FLAG_* */
	__u8 pad;
};

#endif
