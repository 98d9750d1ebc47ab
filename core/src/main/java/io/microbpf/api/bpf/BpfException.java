package io.microbpf.api.bpf;

/** A libbpf or kernel call failed. The message is one line meant for a user; {@link #errno()} is positive. */
public class BpfException extends RuntimeException {
    private final int errno;

    public BpfException(String message, int errno) {
        super(message);
        this.errno = errno;
    }

    public int errno() {
        return errno;
    }
}
