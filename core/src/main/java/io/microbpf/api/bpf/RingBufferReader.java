package io.microbpf.api.bpf;

import com.sun.jna.Memory;
import com.sun.jna.Native;
import com.sun.jna.Pointer;
import io.microbpf.core.internal.jna.LibC;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.concurrent.locks.LockSupport;
import java.util.function.LongSupplier;

/**
 * Reads a BPF ring buffer (BPF_MAP_TYPE_RINGBUF) straight from its mmapped pages: no native call per
 * record. The consumer position is published once per drained batch, and the reader blocks in
 * epoll when the ring is empty, so the kernel does not have to wake it for every record.
 *
 * <p>Owner: the probe thread that polls it; {@link #wakeup()} may be called from any thread to end
 * a blocked {@link #poll}; {@link #close()} (after the polling thread has stopped) unmaps the ring
 * and closes the epoll and event fds. The map fd itself belongs to the {@link BpfObject}.
 */
public final class RingBufferReader implements AutoCloseable {
    /** Receives one record. The buffer is only valid during the call; read it with absolute gets. */
    @FunctionalInterface
    public interface RecordHandler {
        void onRecord(ByteBuffer ring, int offset, int length);
    }

    private static final VarHandle LONG = MethodHandles.byteBufferViewVarHandle(long[].class, ByteOrder.nativeOrder());
    private static final VarHandle INT = MethodHandles.byteBufferViewVarHandle(int[].class, ByteOrder.nativeOrder());
    private static final int BUSY_BIT = 1 << 31;
    private static final int DISCARD_BIT = 1 << 30;
    private static final int HEADER_BYTES = 8;
    private static final long PAGE = 4096;
    /** How long to let records accumulate before blocking when a drain finds the ring empty. */
    private static final long SETTLE_NS = 50_000;
    /**
     * How long to let records accumulate after a drain that found some but fewer than a batch: while
     * records flow, each poll then returns a millisecond's worth instead of the few that arrived since
     * the last drain. Fewer, larger batches mean fewer wake-ups of this thread, of the sinks' threads
     * downstream, and of the kernel's ring-buffer notifications (one irq_work per record that finds the
     * reader caught up). Costs at most this much delivery latency; records carry their own timestamps.
     */
    public static final long LINGER_NS = 1_000_000;
    /**
     * The linger when a poll found fewer than {@link #FEW_RECORDS}: at low rates each wake-up cycle
     * (timers, context switches, a hand-over to the sinks: some 30 µs of CPU on a VM) would otherwise
     * cost more than the few records it brings; 10 ms keeps a trickle to about 100 cycles a second.
     */
    public static final long LINGER_LOW_RATE_NS = 10_000_000;
    static final int FEW_RECORDS = 64;

    private final int dataSize;
    private final long mask;
    private final LongSupplier kernelLost;
    private Pointer consumerPage;
    private Pointer producerArea;
    private final ByteBuffer consumer;
    private final ByteBuffer producer;
    private final ByteBuffer data;
    private int epollFd = -1;
    private int eventFd = -1;
    private final Memory epollEvents = new Memory(12 * 2);
    private final Memory eventfdBuf = new Memory(8);
    private long events;
    private long bytes;
    private volatile long eventsSeen;
    private volatile long bytesSeen;
    private volatile boolean closed;

    private RingBufferReader(int mapFd, int dataSize, LongSupplier kernelLost) {
        if (Integer.bitCount(dataSize) != 1 || dataSize < PAGE) {
            throw new IllegalArgumentException("ring size must be a power of two >= 4096, got " + dataSize);
        }
        this.dataSize = dataSize;
        this.mask = dataSize - 1L;
        this.kernelLost = kernelLost;
        LibC c = LibC.INSTANCE;
        consumerPage = mmapOrThrow(PAGE, LibC.PROT_READ | LibC.PROT_WRITE, mapFd, 0, "consumer page");
        try {
            producerArea = mmapOrThrow(PAGE + 2L * dataSize, LibC.PROT_READ, mapFd, PAGE, "producer page and data");
        } catch (BpfException e) {
            c.munmap(consumerPage, PAGE);
            throw e;
        }
        consumer = consumerPage.getByteBuffer(0, PAGE).order(ByteOrder.nativeOrder());
        producer = producerArea.getByteBuffer(0, PAGE).order(ByteOrder.nativeOrder());
        data = producerArea.getByteBuffer(PAGE, 2L * dataSize).order(ByteOrder.nativeOrder());
        epollFd = c.epoll_create1(LibC.EPOLL_CLOEXEC);
        eventFd = c.eventfd(0, LibC.EFD_CLOEXEC | LibC.EFD_NONBLOCK);
        if (epollFd < 0 || eventFd < 0) {
            int errno = Native.getLastError();
            release();
            throw new BpfException("cannot create epoll/eventfd for the ring buffer: " + Errno.describe(errno), errno);
        }
        addToEpoll(mapFd, 0);
        addToEpoll(eventFd, 1);
    }

    /**
     * Maps the ring of {@code map} (a loaded BPF_MAP_TYPE_RINGBUF).
     *
     * @param kernelLost reads the count of events the kernel failed to reserve (may be {@code () -> 0})
     */
    public static RingBufferReader open(BpfMap map, LongSupplier kernelLost) {
        return new RingBufferReader(map.fd(), map.maxEntries(), kernelLost);
    }

    /** Maps a ring by fd (e.g. a pinned map opened with bpf_obj_get); the fd stays the caller's. */
    public static RingBufferReader open(int mapFd, int dataSize, LongSupplier kernelLost) {
        return new RingBufferReader(mapFd, dataSize, kernelLost);
    }

    /**
     * Consumes every complete record available now, up to {@code maxRecords}, and publishes the new
     * consumer position once. Returns the number of records handed to {@code handler}.
     */
    public int drain(RecordHandler handler, int maxRecords) {
        long cons = (long) LONG.getAcquire(consumer, 0);
        long prod = (long) LONG.getAcquire(producer, 0);
        int handled = 0;
        long start = cons;
        while (cons < prod && handled < maxRecords) {
            int off = (int) (cons & mask);
            int header = (int) INT.getAcquire(data, off);
            if ((header & BUSY_BIT) != 0) {
                break; // still being written
            }
            int len = header & ~(BUSY_BIT | DISCARD_BIT);
            cons += (len + HEADER_BYTES + 7) & ~7L;
            if ((header & DISCARD_BIT) == 0) {
                handler.onRecord(data, off + HEADER_BYTES, len);
                handled++;
                bytes += len;
            }
        }
        if (cons != start) {
            LONG.setRelease(consumer, 0, cons);
        }
        events += handled;
        eventsSeen = events;
        bytesSeen = bytes;
        return handled;
    }

    /**
     * Drains the ring; if it is empty, waits briefly for records to accumulate and then blocks in
     * epoll up to {@code timeoutMs}. Once records are there but fewer than {@code maxRecords}, lets
     * more accumulate ({@link #LINGER_NS}, or {@link #LINGER_LOW_RATE_NS} when only a few came) and
     * drains again, so polls that return records come at most about a thousand times a second, and
     * about a hundred times at low rates. Returns the records handled, or -1 once
     * {@link #wakeup()} was called or the reader closed.
     */
    public int poll(RecordHandler handler, int maxRecords, int timeoutMs) {
        if (closed) {
            return -1;
        }
        int n = drain(handler, maxRecords);
        if (n == 0) {
            LockSupport.parkNanos(SETTLE_NS);
            n = drain(handler, maxRecords);
        }
        if (n == 0 && !closed) {
            int ready = LibC.INSTANCE.epoll_wait(epollFd, epollEvents, 2, timeoutMs);
            if (closed) {
                return -1;
            }
            if (ready < 0 && Native.getLastError() != LibC.EINTR) {
                throw new BpfException("epoll_wait on the ring buffer failed: " + Errno.describe(Native.getLastError()),
                        Native.getLastError());
            }
            n = drain(handler, maxRecords);
        }
        if (closed) {
            return -1;
        }
        if (n > 0 && n < maxRecords) {
            LockSupport.parkNanos(n < FEW_RECORDS ? LINGER_LOW_RATE_NS : LINGER_NS);
            n += drain(handler, maxRecords - n);
        }
        return n;
    }

    /** Makes a blocked or future {@link #poll} return -1. Safe from any thread. */
    public void wakeup() {
        closed = true;
        eventfdBuf.setLong(0, 1);
        LibC.INSTANCE.write(eventFd, eventfdBuf, 8);
    }

    /** Records handed to handlers so far. */
    public long events() {
        return eventsSeen;
    }

    /** Sample bytes handed to handlers so far (headers excluded). */
    public long bytes() {
        return bytesSeen;
    }

    /** Records the kernel could not reserve (ring full), as counted by the BPF program. */
    public long lost() {
        return kernelLost.getAsLong();
    }

    public int dataSize() {
        return dataSize;
    }

    /** Unmaps the ring and closes the epoll and event fds. Call after the polling thread ended. */
    @Override
    public synchronized void close() {
        closed = true;
        release();
    }

    private void release() {
        LibC c = LibC.INSTANCE;
        if (consumerPage != null) {
            c.munmap(consumerPage, PAGE);
            consumerPage = null;
        }
        if (producerArea != null) {
            c.munmap(producerArea, PAGE + 2L * dataSize);
            producerArea = null;
        }
        if (epollFd >= 0) {
            c.close(epollFd);
            epollFd = -1;
        }
        if (eventFd >= 0) {
            c.close(eventFd);
            eventFd = -1;
        }
    }

    private void addToEpoll(int fd, long tag) {
        Memory ev = new Memory(12); // packed struct epoll_event on x86_64
        ev.setInt(0, LibC.EPOLLIN);
        ev.setLong(4, tag);
        if (LibC.INSTANCE.epoll_ctl(epollFd, LibC.EPOLL_CTL_ADD, fd, ev) < 0) {
            int errno = Native.getLastError();
            release();
            throw new BpfException("cannot watch fd " + fd + " with epoll: " + Errno.describe(errno), errno);
        }
    }

    private static Pointer mmapOrThrow(long length, int prot, int fd, long offset, String what) {
        Pointer p = LibC.INSTANCE.mmap(null, length, prot, LibC.MAP_SHARED, fd, offset);
        if (p == null || Pointer.nativeValue(p) == -1L) {
            int errno = Native.getLastError();
            throw new BpfException("cannot mmap ring buffer " + what + ": " + Errno.describe(errno), errno);
        }
        return p;
    }
}
