// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Test helper, not a probe: this kernel has no 802.1Q devices and no act_vlan, so the rx probe's
 * VLAN test tags frames with tc BPF. push2 (sender egress) adds two tags: the inner one ends up in
 * the frame itself (the receiver's netif_receive_skb sees protocol 802.1Q and the tag before the IP
 * header); pop2 (receiver ingress, after the probe's hook) drops any frame without both tags and removes
 * them from the others, so TCP gets only packets that were tagged on the wire.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

char LICENSE[] SEC("license") = "Dual BSD/GPL";

SEC("classifier/push2")
int vlan_push2(struct __sk_buff *skb)
{
	bpf_skb_vlan_push(skb, bpf_htons(0x8100), 7);
	bpf_skb_vlan_push(skb, bpf_htons(0x8100), 8);
	return 0; /* TC_ACT_OK */
}

SEC("classifier/pop2")
int vlan_pop2(struct __sk_buff *skb)
{
	/* only frames that really carry both tags get through: the test cannot pass untagged */
	if (!skb->vlan_present || skb->protocol != bpf_htons(0x8100))
		return 2; /* TC_ACT_SHOT */
	bpf_skb_vlan_pop(skb);
	bpf_skb_vlan_pop(skb);
	return 0;
}
