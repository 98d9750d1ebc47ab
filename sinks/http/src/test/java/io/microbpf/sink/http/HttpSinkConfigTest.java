package io.microbpf.sink.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.microbpf.api.probe.ConfigException;
import java.util.Map;
import org.junit.jupiter.api.Test;

class HttpSinkConfigTest {
    @Test
    void defaultsHaveNoAuthenticationAndNoPush() {
        HttpSinkComponent.Config c = HttpSinkComponent.parse(Map.of());
        assertNull(c.push());
        assertNull(c.routes().authenticator());
        assertEquals(100, c.routes().maxFlows());
    }

    @Test
    void aBadConfigurationIsOneMessageNamingEveryBadKey() {
        ConfigException e = assertThrows(ConfigException.class, () -> HttpSinkComponent.parse(Map.of(
                "push.url", "ftp://x", "metrics.max.flows", "-5", "push.retry.initial.ms", "5000", "push.retry.max.ms", "100",
                "stream.max.clents", "3")));
        assertEquals("invalid configuration io.microbpf.sink.http: metrics.max.flows=-5 is outside 0..1000000; "
                + "push.url=ftp://x is not an http:// or https:// URL with a host; "
                + "push.retry.max.ms=100 is below push.retry.initial.ms=5000; unknown key stream.max.clents", e.getMessage());
    }

    @Test
    void pushIsOnWhenAUrlIsSet() {
        HttpSinkComponent.Config c = HttpSinkComponent.parse(Map.of("push.url", "http://10.220.0.9:22100/ingest",
                "push.agent", "node-1", "push.types", "tcp.flow"));
        assertEquals("http://10.220.0.9:22100/ingest", c.push().url().toString());
        assertEquals("node-1", c.push().agent());
        assertEquals(java.util.Set.of("tcp.flow"), c.push().types());
    }
}
