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
#define RX_STAT_NO_MAC 0      /* TCP packet at IP start with no MAC stamp for its skb */
#define RX_STAT_NO_IP 1       /* TCP packet at TCP start with no IP-start entry for its segment */
#define RX_STAT_RING_FULL 2   /* a socket's ring of segments awaiting the application was full: oldest dropped */
#define RX_STAT_NO_RING 3     /* application copy on a socket whose segments were never seen */
#define RX_STAT_IP_INSERTED 4 /* IP-start entries inserted (evicted = inserted - consumed - live) */
#define RX_STAT_IP_CONSUMED 5
#define RX_STAT_DUPLICATE 6   /* segments entirely below rcv_nxt at TCP start (already received) */
#define RX_STAT_EVENTS 7      /* records submitted (events mode) */

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

/* Stamps of a segment between IP start and TCP start (key: struct seg_key). */
struct rx_stamp {
	__u64 t_mac;
	__u64 t_ip;
};

#endif
