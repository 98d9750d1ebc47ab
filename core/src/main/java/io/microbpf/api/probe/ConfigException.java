package io.microbpf.api.probe;

/** A configuration was rejected; the message names every bad key, on one line. */
public class ConfigException extends RuntimeException {
    public ConfigException(String message) {
        super(message);
    }
}
