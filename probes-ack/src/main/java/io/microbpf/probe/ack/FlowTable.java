package io.microbpf.probe.ack;

import java.util.List;

/** Service of the ack probe: the latest metrics of every live flow (read at the last snapshot). */
public interface FlowTable {
    /** One entry per live flow, as of the last snapshot; empty when the probe is not running. */
    List<TcpFlowEvent> flows();

    /** Flows evicted from the bounded in-kernel map (LRU) since the probe started. */
    long evictedFlows();

    /**
     * Flows whose socket-local storage could not be created (kernel allocation failure, or the
     * socket's option-memory bound {@code net.core.optmem_max} reached) since the probe started: their
     * ACK, read, write and RTT sample counts stay 0. The default, for tables without such storage: 0.
     */
    default long socketStorageFailedFlows() {
        return 0;
    }
}
