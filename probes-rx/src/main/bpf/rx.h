/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * probes-rx: layers, counters and the per-socket ring of rx.bpf.c. The records and histograms are
 * the shared ones of microbpf_layer.h (Java mirrors in io.microbpf.probe.layer).
 */
#ifndef RX_H
#define RX_H

/* layers (index into layer_hist) */
#define RX_MAC 0 /* MAC start (eth_type_trans / netif_rx) -> IP start (ip_rcv / netif_receive_skb) */
#define RX_IP 1  /* IP start -> TCP start (tcp_v4_rcv / tcp_filter in it / tcp_rcv_established) */
#define RX_TCP 2 /* TCP start -> the application's copy (skb_copy_datagram_iter) */

/* layer_stats indices: Java mirror RxProbeComponent.STATS */
#define RX_STAT_NO_MAC 0      /* TCP packet at TCP start whose IP-start entry had no MAC stamp for its skb */
#define RX_STAT_NO_IP 1       /* TCP packet at TCP start with no IP-start entry for its segment */
#define RX_STAT_RING_FULL 2   /* a socket's ring of segments awaiting the application was full: oldest dropped */
#define RX_STAT_NO_RING 3     /* application copy on a socket whose segments were never seen */
#define RX_STAT_IP_INSERTED 4 /* IP-start entries inserted (TCP packets only) */
#define RX_STAT_IP_CONSUMED 5 /* ... and consumed at TCP start */
#define RX_STAT_DUPLICATE 6   /* segments entirely below rcv_nxt at TCP start (already received) */
#define RX_STAT_EVENTS 7      /* records submitted (events mode) */
#define RX_STAT_IP_EVICTED 8  /* IP-start entries overwritten before their TCP start (slot reused: packet
                                 dropped or forwarded before TCP, or two packets in flight on one slot) */
#define RX_STAT_MAC_EVICTED 9 /* MAC stamps overwritten before their IP start */
#define RX_STAT_REORDERED 10  /* segments that reached TCP start after a later one of their socket (e.g. two
                                 CPUs' softirqs): put back in sequence order in the socket's ring */
#define RX_STAT_REORDER_DEEP 11 /* ... that arrived more than RX_REORDER_DEPTH segments late: queued as far back
                                   as allowed, so reported delivered with the later segment ahead of it */
#define RX_REORDER_DEPTH 64   /* how far back in the ring a late segment is moved (each step moves one entry) */

/* Direct-mapped per-CPU in-flight tables (log2 of the slots per CPU), kept small on purpose: a
 * slot anywhere in a 64 KiB table cost ~200 ns per access on our VMs (TLB and cache misses), one in
 * a table of a page or less ~10 ns. MAC start -> IP start is one pass of a CPU's backlog or NAPI
 * poll (veth: usually one packet in flight); IP start -> TCP start one softirq pass (at most a GRO
 * list batch). Collisions of packets in flight at once evict (counted). */
#define RX_MAC_BITS 8
#define RX_IP_BITS 6

#define RX_RING 128 /* power of two */

/* One segment waiting in a socket's receive queue for the application. */
struct rx_seg {
	__u64 t_mac;
	__u64 t_ip;
	__u64 t_tcp;
	__u32 seq;
	__u32 end_seq;
};

/* Per socket (key: the incoming flow), in an LRU hash: segments between TCP start and the copy. */
struct rx_sock {
	__u32 head; /* next to consume (free-running) */
	__u32 tail; /* next to write */
	struct rx_seg segs[RX_RING];
};

/* MAC start of one skb (slot of the skb pointer in rx_mac). */
struct rx_mac_slot {
	__u32 skb;  /* low 32 bits of the skb's address */
	__u32 live; /* 1 until consumed at IP start */
	__u64 t_mac;
};

/* Stamps of a TCP packet between IP start and TCP start (slot of its network header's address in rx_ip). */
struct rx_ip_slot {
	__u32 l3;   /* low 32 bits of the network header's address */
	__u32 live; /* 1 until consumed at TCP start */
	__u64 t_mac;
	__u64 t_ip;
};

#endif
