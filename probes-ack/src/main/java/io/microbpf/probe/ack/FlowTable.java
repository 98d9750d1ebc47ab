package io.microbpf.probe.ack;

import java.util.List;

/** Service of the ack probe: the latest metrics of every live flow (read at the last snapshot). */
public interface FlowTable {
    /** One entry per live flow, as of the last snapshot; empty when the probe is not running. */
    List<TcpFlowEvent> flows();

    /** Flows evicted from the bounded in-kernel map (LRU) since the probe started. */
    long evictedFlows();
}
