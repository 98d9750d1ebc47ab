package io.microbpf.api.probe;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ConfigReaderTest {
    @Test
    void validValuesAreParsedAndDefaultsFillTheRest() {
        ConfigReader r = new ConfigReader("p", Map.of("enabled", "false", "ringbuf.bytes", "8192", "mode", "EVENTS",
                "ports", "80, 443,", "service.pid", "p"));
        assertEquals(false, r.getBoolean("enabled", true));
        assertEquals(8192, r.getPowerOfTwo("ringbuf.bytes", 4096, 4096, 1 << 20));
        assertEquals("events", r.getChoice("mode", "summary", "summary", "events"));
        assertEquals(List.of("80", "443"), r.getList("ports"));
        assertEquals(7, r.getInt("absent", 7, 0, 10));
        r.validate();
    }

    @Test
    void everyBadValueIsNamedInOneMessage() {
        ConfigReader r = new ConfigReader("io.microbpf.probe.ack", Map.of("enabled", "yes", "ringbuf.bytes", "5000",
                "batch.max.events", "-3", "interval.seconds", "soon", "mode", "loud", "ringbuf.bytse", "1"));
        r.getBoolean("enabled", true);
        r.getPowerOfTwo("ringbuf.bytes", 4096, 4096, 1 << 20);
        r.getInt("batch.max.events", 10, 1, 100);
        r.getLong("interval.seconds", 1, 1, 60);
        r.getChoice("mode", "summary", "summary", "events");
        ConfigException e = assertThrows(ConfigException.class, r::validate);
        assertEquals("invalid configuration io.microbpf.probe.ack: enabled=yes is not true or false; "
                + "ringbuf.bytes=5000 is not a power of two; batch.max.events=-3 is outside 1..100; "
                + "interval.seconds=soon is not a whole number; mode=loud is not one of [summary, events]; "
                + "unknown key ringbuf.bytse", e.getMessage());
    }

    @Test
    void keysTheFrameworkAddsAreNotUnknownKeys() {
        ConfigReader r = new ConfigReader("p", Map.of("osgi.ds.satisfying.condition.target", "(osgi.condition.id=true)",
                "component.name", "p", "component.id", "3", "service.pid", "p", "felix.fileinstall.filename", "file:/etc/p.cfg"));
        assertEquals(List.of(), r.errors());
    }

    @Test
    void badValuesFallBackToDefaultsSoTheCallerNeverSeesGarbage() {
        ConfigReader r = new ConfigReader("p", Map.of("n", "12x"));
        assertEquals(5, r.getInt("n", 5, 0, 100));
        assertEquals(1, r.errors().size());
    }
}
